// @ts-check
/**
 * The create and edit dialogs of the tasks page. htmx loads a form into #task-dialog-body (a
 * "New task" or "Edit" button); this opens the <dialog> around it, moves focus into it (to the
 * first field with an error after a refused save), and gives focus back to the button that opened
 * it when it closes (Escape, Cancel, or a save the server accepted: `task-dialog:done`).
 */
const dialog = /** @type {HTMLDialogElement | null} */ (document.getElementById('task-dialog'));
const body = document.getElementById('task-dialog-body');
const notice = document.getElementById('task-notice');

/** The id of the button that opened the dialog: the list may have been re-rendered meanwhile. */
let openerId = '';
/** Focus still to hand back once the list holding the opener has been re-rendered after a save. */
let pendingFocus = '';
/** Did the dialog close because the server accepted a save? */
let saved = false;

/** @param {Element | null} el */
const focusable = (el) => (el instanceof HTMLElement ? el : null);

function focusInside() {
  if (!dialog) return;
  const target =
    focusable(dialog.querySelector('[aria-invalid="true"]')) ??
    focusable(dialog.querySelector('[autofocus]')) ??
    focusable(dialog.querySelector('input, select, textarea, button'));
  target?.focus();
}

function giveFocusBack() {
  const opener = openerId ? document.getElementById(openerId) : null;
  if (opener?.isConnected) {
    opener.focus();
    pendingFocus = saved ? openerId : '';
  } else {
    fallbackFocus();
    pendingFocus = '';
  }
}

/** The task is gone (deleted): the nearest sensible place is the "New task" button or the search. */
function fallbackFocus() {
  focusable(document.getElementById('task-new') ?? document.getElementById('task-q'))?.focus();
}

if (dialog && body) {
  document.body.addEventListener('htmx:beforeRequest', (event) => {
    const elt = /** @type {CustomEvent} */ (event).detail?.elt;
    if (elt instanceof HTMLElement && elt.hasAttribute('data-opens-dialog')) openerId = elt.id;
  });

  document.body.addEventListener('htmx:afterSwap', (event) => {
    const target = /** @type {CustomEvent} */ (event).detail?.target;
    if (target === body) {
      if (!body.querySelector('form')) return;
      if (!dialog.open && notice) notice.textContent = '';
      // Named by the loaded form's heading (the attribute would point at nothing while empty).
      if (body.querySelector('#task-dialog-title'))
        dialog.setAttribute('aria-labelledby', 'task-dialog-title');
      if (!dialog.open) dialog.showModal();
      focusInside();
    } else if (target instanceof HTMLElement && target.id === 'task-results' && pendingFocus) {
      // The list was re-rendered after a save: the opener is a new element with the same id.
      const again = document.getElementById(pendingFocus);
      pendingFocus = '';
      if (document.activeElement === document.body || !document.activeElement) {
        if (again) again.focus();
        else fallbackFocus();
      }
    }
  });

  document.body.addEventListener('task-dialog:done', (event) => {
    const text = /** @type {CustomEvent} */ (event).detail?.text;
    if (notice && typeof text === 'string') notice.textContent = text;
    saved = true;
    dialog.close();
  });

  dialog.addEventListener('click', (event) => {
    const target = event.target;
    if (target instanceof Element && target.closest('[data-dialog-close]')) dialog.close();
  });

  // Escape (the browser's own "cancel"), Cancel, or a save: empty it and give focus back.
  dialog.addEventListener('close', () => {
    body.replaceChildren();
    dialog.removeAttribute('aria-labelledby');
    giveFocusBack();
    saved = false;
  });
}
