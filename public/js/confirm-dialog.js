// @ts-check
/**
 * Destructive actions ask first, in a real dialog rather than the browser's confirm(). Every htmx
 * request from an element with `hx-confirm` comes here (htmx:confirm) instead of to confirm():
 *   - with `data-confirm-from`, the dialog shows what the action will do, counted by the server
 *     just now (GET that path: "3 open tasks will become unassigned"); an action that cannot be
 *     done (a user who still owns projects) shows why, with Close only;
 *   - without it, the dialog shows the hx-confirm question.
 * Cancel, Escape or Close: nothing is sent. The confirming button names the action ("Delete
 * nora"). Focus starts on Cancel and goes back to the button that asked. See docs/ui-details.md.
 */

/** @type {HTMLDialogElement | undefined} */
let dialog;
/** @type {HTMLElement} */
let title;
/** @type {HTMLElement} */
let body;
/** @type {HTMLButtonElement} */
let yes;
/** @type {HTMLButtonElement} */
let no;
/** @type {(() => void) | undefined} */
let pending;
/** @type {HTMLElement | null} */
let opener = null;

function build() {
  const d = document.createElement('dialog');
  d.id = 'confirm-dialog';
  d.className = 'confirm-dialog';
  d.setAttribute('aria-labelledby', 'confirm-dialog-title');
  d.setAttribute('aria-describedby', 'confirm-dialog-body');
  title = document.createElement('h2');
  title.id = 'confirm-dialog-title';
  body = document.createElement('div');
  body.id = 'confirm-dialog-body';
  const actions = document.createElement('div');
  actions.className = 'dialog-actions';
  yes = document.createElement('button');
  yes.type = 'button';
  yes.className = 'danger';
  yes.dataset.confirmYes = '';
  no = document.createElement('button');
  no.type = 'button';
  no.className = 'secondary';
  no.dataset.confirmNo = '';
  actions.append(yes, no);
  d.append(title, body, actions);
  document.body.append(d);
  yes.addEventListener('click', () => {
    const go = pending;
    pending = undefined;
    d.close();
    go?.();
  });
  no.addEventListener('click', () => d.close());
  d.addEventListener('close', () => {
    pending = undefined;
    body.replaceChildren();
    if (opener?.isConnected) opener.focus();
    opener = null;
  });
  return d;
}

/** @param {string} text */
const paragraph = (text) => {
  const p = document.createElement('p');
  p.textContent = text;
  return p;
};

/**
 * What the server says the action will do, or undefined when it could not be asked.
 * @param {string} path
 */
async function details(path) {
  try {
    const res = await fetch(path, { headers: { 'HX-Request': 'true' }, credentials: 'same-origin' });
    if (!res.ok) return undefined;
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    return doc.querySelector('[data-confirm]') ?? undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {HTMLElement} elt
 * @param {string} question
 * @param {() => void} go
 */
async function ask(elt, question, go) {
  dialog ??= build();
  opener = elt.querySelector('button') ?? elt;
  const from = elt.closest('[data-confirm-from]')?.getAttribute('data-confirm-from');
  const found = from ? await details(from) : undefined;
  const action = found?.getAttribute('data-action') ?? '';
  const blocked = found?.hasAttribute('data-blocked') ?? false;
  title.textContent = found?.getAttribute('data-title') ?? question;
  if (found)
    body.replaceChildren(...[...found.querySelectorAll('p')].map((p) => paragraph(p.textContent ?? '')));
  else if (from)
    body.replaceChildren(
      paragraph('What this would change could not be counted: the portal did not answer.'),
      paragraph('This cannot be undone.'),
    );
  else body.replaceChildren(paragraph('This cannot be undone.'));
  yes.hidden = blocked;
  yes.textContent = action || (elt.querySelector('button')?.textContent ?? 'Confirm');
  no.textContent = blocked ? 'Close' : 'Cancel';
  pending = blocked ? undefined : go;
  if (!dialog.open) dialog.showModal();
  no.focus();
}

document.body.addEventListener('htmx:confirm', (event) => {
  const detail = /** @type {CustomEvent} */ (event).detail;
  const question = detail?.question;
  const elt = detail?.elt;
  if (!question || !(elt instanceof HTMLElement)) return;
  event.preventDefault();
  void ask(elt, question, () => detail.issueRequest(true));
});
