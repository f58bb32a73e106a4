// @ts-check
/**
 * For pages other than the dashboard: keeps the realtime session open, shows its state on
 * [data-live], and fires a `portal:change` event on <body> whenever the user's document changes,
 * so htmx fragments can refresh themselves (hx-trigger="portal:change from:body").
 */
import { showConnection } from './live-document.js';
import { pageLive, startPageLive } from './page-live.js';

const live = pageLive();
showConnection(live, /** @type {HTMLElement} */ (document.querySelector('[data-live]')), {
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  connecting: 'Connecting…',
});
live.addEventListener('change', () => document.body.dispatchEvent(new CustomEvent('portal:change')));
startPageLive();
