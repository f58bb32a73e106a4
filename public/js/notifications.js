// @ts-check
/**
 * The bell in the page header (src/notifications/view.tsx NotificationBell), an Alpine component,
 * and its short notices: both follow `notifications` in the user's realtime document ({unread,
 * latest: {<id>: {kind, message, task_id?, at, read}}}), so a notification made anywhere shows on
 * every open page at once, and marking them read on one page clears the count on all of them.
 * Nothing is polled. Registered here, before alpine-components.js (loaded after this module)
 * starts Alpine.
 */
import Alpine from './alpine.js';
import { startPageLive } from './page-live.js';

/** A notice under the header (the `notices` component of alpine-components.js). @param {string} message */
const notice = (message) => dispatchEvent(new CustomEvent('portal-notice', { detail: message }));

/** A boolean attribute's value for x-bind: present (empty) or absent. @param {boolean} on */
const present = (on) => (on ? '' : null);

/**
 * @typedef {{ id: string, message: string, at: string, when: string, read: boolean, cls: string }} Entry
 */

Alpine.data('bell', () => ({
  /** Unread notifications; null until the first document (no `data-unread` on the bell yet). */
  /** @type {number | null} */
  unread: null,
  /** Newest first. @type {Entry[]} */
  entries: [],
  /** A "mark all read" under way. */
  marking: false,
  /** `hidden` of the count: Alpine would write hidden="true", which is not HTML's form. */
  get countHidden() {
    return present(!this.unread);
  },
  get emptyHidden() {
    return present(this.entries.length > 0);
  },
  get cannotRead() {
    return !this.unread || this.marking;
  },
  get label() {
    return this.unread === 1 ? '1 unread notification' : `${this.unread ?? 0} unread notifications`;
  },
  init() {
    /** Ids already shown, so only new ones make a notice; undefined until the first document. */
    /** @type {Set<string> | undefined} */
    let known;
    /** @param {any} doc */
    const render = (doc) => {
      const section = doc?.notifications;
      if (!section) return;
      this.unread = Number(section.unread) || 0;
      this.marking = false;
      /** @type {[string, any][]} */
      const latest = Object.entries(section.latest ?? {});
      this.entries = latest
        .sort((a, b) => Number(b[0]) - Number(a[0]))
        .map(([id, n]) => ({
          id,
          message: n.message,
          at: n.at,
          when: new Date(n.at).toLocaleString(),
          read: Boolean(n.read),
          cls: n.read ? '' : 'unread',
        }));
      if (known) {
        for (const n of this.entries.slice().reverse()) if (!known.has(n.id) && !n.read) notice(n.message);
      }
      known = new Set(this.entries.map((n) => n.id));
    };
    const live = startPageLive();
    live.addEventListener('snapshot', (event) => render(/** @type {CustomEvent} */ (event).detail.doc));
    live.addEventListener('change', (event) => render(/** @type {CustomEvent} */ (event).detail.doc));
    if (live.doc) render(live.doc);
  },
  async readAll() {
    this.marking = true;
    const res = await fetch('/api/notifications/read', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      credentials: 'same-origin',
    }).catch(() => undefined);
    // The count itself follows the document (on every open page); only a failure is shown here.
    if (!res?.ok) {
      this.marking = false;
      notice('Could not mark notifications read. Try again.');
    }
  },
}));
