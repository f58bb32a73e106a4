// @ts-check
/**
 * For pages other than the dashboard: keeps the realtime session open (the `connection` component
 * of alpine-components.js shows its state), and fires a `portal:change` event on <body> whenever
 * the user's document changes, so htmx fragments can refresh themselves
 * (hx-trigger="portal:change from:body").
 */
import './live-refresh.js';
import { pageLive, startPageLive } from './page-live.js';

const live = pageLive();
live.addEventListener('change', () => document.body.dispatchEvent(new CustomEvent('portal:change')));
startPageLive();
