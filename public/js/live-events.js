// @ts-check
/**
 * For pages other than the dashboard: keeps the realtime session open, shows its state on
 * [data-live], and fires a `portal:change` event on <body> whenever the user's document changes,
 * so htmx fragments can refresh themselves (hx-trigger="portal:change from:body").
 */
import { LiveDocument } from './live-document.js';

const root = /** @type {HTMLElement} */ (document.querySelector('[data-live]'));
const label = document.querySelector('[data-connection-label]');
const LABELS = { live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline', connecting: 'Connecting…' };

const live = new LiveDocument();
live.addEventListener('state', (event) => {
  const state = /** @type {CustomEvent} */ (event).detail;
  if (state === 'signed-out') return location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
  root.dataset.connection = state === 'connecting' ? 'reconnecting' : state;
  if (label) label.textContent = LABELS[/** @type {keyof typeof LABELS} */ (state)] ?? state;
});
live.addEventListener('change', () => document.body.dispatchEvent(new CustomEvent('portal:change')));
live.start();
