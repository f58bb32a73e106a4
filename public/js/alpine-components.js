// @ts-check
/**
 * The page's Alpine components (Alpine's CSP build: the markup names properties and methods of
 * these components, and nothing is evaluated with eval; docs/decisions/0026-alpine-csp-build.md).
 * Loaded as a module on every page with live parts; Alpine also starts components that htmx
 * swaps in later.
 */
import Alpine from './alpine.js';
import { pageLive } from './page-live.js';

/** The words for each state of the page's realtime session. */
const CONNECTION = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  'signed-out': 'Offline',
};

/**
 * The connection line of a live page (src/views/layout.tsx LiveStatus): follows the page's
 * LiveDocument, shows its state as `data-connection` (live | reconnecting | offline) and in words
 * (`data-offline` replaces the word for offline), and goes back to sign-in once signed out.
 */
Alpine.data('connection', () => ({
  /** @type {keyof typeof CONNECTION} */
  state: 'connecting',
  get shown() {
    return this.state === 'connecting'
      ? 'reconnecting'
      : this.state === 'signed-out'
        ? 'offline'
        : this.state;
  },
  get label() {
    return (this.shown === 'offline' && this.$el.dataset.offline) || CONNECTION[this.state];
  },
  init() {
    const live = pageLive();
    /** @param {keyof typeof CONNECTION} state */
    const follow = (state) => {
      this.state = state;
      if (state === 'signed-out') location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
    };
    follow(live.state);
    live.addEventListener('state', (event) => follow(/** @type {CustomEvent} */ (event).detail));
  },
}));

/** How long a notice stays. */
const NOTICE_MS = 8000;
let noticeId = 0;

/**
 * The short notices under the page header (src/notifications/view.tsx Notices): each
 * `portal-notice` event on window (detail: the message) shows one for a few seconds.
 */
Alpine.data('notices', () => ({
  /** @type {{ id: number, message: string }[]} */
  items: [],
  /** @param {Event} event */
  show(event) {
    const id = ++noticeId;
    this.items.push({ id, message: String(/** @type {CustomEvent} */ (event).detail) });
    setTimeout(() => {
      this.items = this.items.filter((n) => n.id !== id);
    }, NOTICE_MS);
  },
}));

Alpine.start();
