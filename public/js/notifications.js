// @ts-check
/**
 * The bell in the page header and the short notices: both follow `notifications` in the user's
 * realtime document ({unread, latest: {<id>: {kind, message, task_id?, at, read}}}), so a
 * notification made anywhere shows on every open page at once, and marking them read on one page
 * clears the count on all of them. Nothing is polled.
 */
import { startPageLive } from './page-live.js';

const bell = /** @type {HTMLElement | null} */ (document.querySelector('[data-bell]'));
if (bell) {
  const count = /** @type {HTMLElement} */ (bell.querySelector('[data-bell-count]'));
  const list = /** @type {HTMLElement} */ (bell.querySelector('[data-bell-list]'));
  const empty = /** @type {HTMLElement} */ (bell.querySelector('[data-bell-empty]'));
  const readAll = /** @type {HTMLButtonElement} */ (bell.querySelector('[data-bell-read]'));
  const label = /** @type {HTMLElement} */ (bell.querySelector('[data-bell-label]'));
  /** Ids already shown, so only new ones make a notice; undefined until the first document. */
  /** @type {Set<string> | undefined} */
  let known;

  /** Shown for a few seconds under the header (the `notices` component of alpine-components.js). @param {string} message */
  const notice = (message) => dispatchEvent(new CustomEvent('portal-notice', { detail: message }));

  /** @param {any} doc */
  const render = (doc) => {
    const section = doc?.notifications;
    if (!section) return;
    const unread = Number(section.unread) || 0;
    count.textContent = String(unread);
    count.hidden = unread === 0;
    bell.dataset.unread = String(unread);
    label.textContent = unread === 1 ? '1 unread notification' : `${unread} unread notifications`;
    readAll.disabled = unread === 0;
    const entries = Object.entries(section.latest ?? {}).sort((a, b) => Number(b[0]) - Number(a[0]));
    list.replaceChildren(
      ...entries.map(([id, n]) => {
        const li = document.createElement('li');
        li.dataset.notification = id;
        if (!n.read) li.className = 'unread';
        const text = document.createElement('span');
        text.textContent = n.message;
        const time = document.createElement('time');
        time.dateTime = n.at;
        time.textContent = new Date(n.at).toLocaleString();
        li.append(text, ' ', time);
        return li;
      }),
    );
    empty.hidden = entries.length > 0;
    if (known) {
      for (const [id, n] of entries.slice().reverse()) if (!known.has(id) && !n.read) notice(n.message);
    }
    known = new Set(entries.map(([id]) => id));
  };

  const live = startPageLive();
  live.addEventListener('snapshot', (event) => render(/** @type {CustomEvent} */ (event).detail.doc));
  live.addEventListener('change', (event) => render(/** @type {CustomEvent} */ (event).detail.doc));
  if (live.doc) render(live.doc);

  readAll.addEventListener('click', async () => {
    readAll.disabled = true;
    const res = await fetch('/api/notifications/read', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      credentials: 'same-origin',
    }).catch(() => undefined);
    // The count itself follows the document (on every open page); only a failure is shown here.
    if (!res?.ok) {
      readAll.disabled = false;
      notice('Could not mark notifications read. Try again.');
    }
  });
}
