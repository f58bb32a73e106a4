// @ts-check
/**
 * No lost edits (docs/ui-writes.md). An open edit form (`form[data-watch]`, carrying the `version`
 * it was opened with and the change log position `since`) asks the portal whether its row has
 * changed: at once on every realtime change event (`portal:change` on <body>, live-events.js) and
 * every WATCH_MS while the tab is visible, since the realtime document carries only dashboard
 * numbers and a new title alone moves none of them. When the row has changed, the answer is the
 * notice (who changed what, old → new) with "Overwrite with mine" (a submit button of the form
 * that sends the current version) and "Reload"; it goes into the form's [data-conflict-slot].
 * The form keeps what was typed; nothing is saved until the person chooses.
 */

const WATCH_MS = 700;
const htmx = /** @type {any} */ (globalThis).htmx;

/** Forms asked about right now: one question at a time per form. */
const asking = new WeakSet();

/** Is the form where the person can see it: not in a closed dialog or a folded <details>? */
const open = (/** @type {HTMLFormElement} */ form) =>
  form.isConnected && !form.closest('dialog:not([open])') && !form.closest('details:not([open])');

/** @param {HTMLFormElement} form */
async function check(form) {
  if (asking.has(form) || !open(form)) return;
  const version = /** @type {HTMLInputElement | null} */ (form.querySelector('input[name=version]'))?.value;
  const slot = form.querySelector('[data-conflict-slot]');
  if (!version || !slot) return;
  const since =
    /** @type {HTMLInputElement | null} */ (form.querySelector('input[name=since]'))?.value ?? '0';
  const url = new URL(form.dataset.watch ?? '', location.href);
  url.searchParams.set('version', version);
  url.searchParams.set('since', since);
  asking.add(form);
  try {
    const res = await fetch(url, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
    if (res.status !== 200 || !form.isConnected) return;
    const template = document.createElement('template');
    template.innerHTML = await res.text();
    const notice = template.content.querySelector('[data-conflict]');
    if (!(notice instanceof HTMLElement)) return;
    const shown = slot.querySelector('[data-conflict]');
    // The same news again: leave it (and the focus in it) alone.
    if (
      shown instanceof HTMLElement &&
      shown.dataset.version === notice.dataset.version &&
      shown.dataset.changes === notice.dataset.changes
    )
      return;
    slot.replaceChildren(notice);
  } catch {
    // Offline or the server away: the realtime indicator and the save's own guard say so.
  } finally {
    asking.delete(form);
  }
}

function checkAll() {
  if (document.visibilityState === 'hidden') return;
  for (const form of document.querySelectorAll('form[data-watch]'))
    void check(/** @type {HTMLFormElement} */ (form));
}

document.body.addEventListener('portal:change', checkAll);
document.addEventListener('visibilitychange', checkAll);
setInterval(checkAll, WATCH_MS);

// Reload: the current values in place of the form (htmx), or the page afresh (no target: a page of
// its own). What was typed is dropped, as the notice says.
document.addEventListener('click', (event) => {
  const link = event.target instanceof Element ? event.target.closest('a[data-reload]') : null;
  if (!(link instanceof HTMLAnchorElement)) return;
  const target = link.dataset.reloadTarget;
  if (!target || !htmx || !document.querySelector(target)) return;
  event.preventDefault();
  const swap = target === '#task-dialog-body' ? 'innerHTML' : 'outerHTML';
  htmx.ajax('GET', link.href, { target, swap });
});
