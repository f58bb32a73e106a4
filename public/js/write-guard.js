// @ts-check
/**
 * No silent lost writes. Every write the pages make goes through htmx (a form or an in-place
 * control with hx-post); when one does not reach the server, or the server refuses it, this says
 * so instead of leaving the page looking saved:
 *   - an in-place control (a <select> that saves on its own) goes back to its saved value, the
 *     one the server rendered (`data-saved`, else the `selected` option / default value);
 *   - a form keeps what was typed (it was never cleared), so nothing has to be typed again;
 *   - a notice (role=alert) says what was not saved and why, with Retry (when trying again can
 *     help: no connection, no answer in time, a server error) and Dismiss. Inside an open
 *     <dialog> the notice moves into the dialog, the only place a modal lets one reach.
 * Reads (GET: filters, pages, live refreshes) are left alone: they lose nothing.
 * See docs/ui-writes.md.
 */

const htmx = /** @type {any} */ (globalThis).htmx;
/** A request with no answer at all is a failure too: give up after this and say so. */
if (htmx && !htmx.config.timeout) htmx.config.timeout = 20_000;

/**
 * @typedef {{ elt: HTMLElement, id: string, verb: string, path: string, what: string,
 *   attempted?: string, form: boolean, overwrite?: string }} Failure
 */

/** @type {Failure | undefined} */
let failed;

const box = document.createElement('div');
box.className = 'write-notice';
box.dataset.writeNotice = '';
const text = document.createElement('p');
text.setAttribute('role', 'alert');
const actions = document.createElement('div');
actions.className = 'write-notice-actions';
actions.hidden = true;
const retry = document.createElement('button');
retry.type = 'button';
retry.textContent = 'Retry';
const dismiss = document.createElement('button');
dismiss.type = 'button';
dismiss.className = 'secondary';
dismiss.textContent = 'Dismiss';
// A stale save (412: the row changed since the page showed it): mine over theirs, or theirs.
const overwrite = document.createElement('button');
overwrite.type = 'button';
overwrite.textContent = 'Overwrite with mine';
overwrite.hidden = true;
const reload = document.createElement('button');
reload.type = 'button';
reload.className = 'secondary';
reload.textContent = 'Reload';
reload.hidden = true;
actions.append(retry, overwrite, reload, dismiss);
box.append(text, actions);
document.body.append(box);

/** @param {Event} event */
const detailOf = (event) => /** @type {any} */ (/** @type {CustomEvent} */ (event).detail ?? {});

/** Is this request a write (anything but GET)? */
const isWrite = (/** @type {any} */ detail) =>
  typeof detail.requestConfig?.verb === 'string' && detail.requestConfig.verb.toLowerCase() !== 'get';

/** A control that saves on its own (not a form, not a button in one). */
const inPlace = (/** @type {Element} */ elt) =>
  elt instanceof HTMLSelectElement || (elt instanceof HTMLInputElement && elt.type !== 'submit');

/** The value the server last rendered for an in-place control. */
function savedValue(/** @type {HTMLSelectElement | HTMLInputElement} */ elt) {
  if (elt.dataset.saved !== undefined) return elt.dataset.saved;
  if (elt instanceof HTMLSelectElement) {
    const option = [...elt.options].find((o) => o.defaultSelected) ?? elt.options[0];
    return option?.value ?? '';
  }
  return elt.defaultValue;
}

/** What the person would call this write: the control's label, or the button they pressed. */
function describe(/** @type {HTMLElement} */ elt, /** @type {any} */ detail) {
  const words = (/** @type {Element | null | undefined} */ el) =>
    (el?.getAttribute('aria-label') || el?.textContent || '').replace(/\s+/g, ' ').trim();
  if (inPlace(elt)) {
    const label = /** @type {HTMLSelectElement} */ (elt).labels?.[0];
    return words(label) || /** @type {HTMLSelectElement} */ (elt).name;
  }
  const submitter = detail.requestConfig?.triggeringEvent?.submitter;
  return (
    words(submitter) || words(elt.querySelector('button[type=submit], button:not([type])')) || 'Your change'
  );
}

/** Why it failed, in words, and whether trying again can help. */
function reasonOf(/** @type {string} */ type, /** @type {any} */ detail) {
  if (type === 'htmx:sendError')
    return {
      why: 'the portal could not be reached. Check your connection, then retry.',
      canRetry: true,
    };
  if (type === 'htmx:timeout') return { why: 'the portal did not answer in time.', canRetry: true };
  const status = Number(detail.xhr?.status ?? 0);
  let message = '';
  try {
    message = JSON.parse(detail.xhr?.responseText ?? '')?.error?.message ?? '';
  } catch {
    // Not the API's JSON error body: say the status instead.
  }
  if (status >= 500 || status === 0)
    return { why: `the portal had a problem (error ${status}). Retry in a moment.`, canRetry: true };
  return {
    why: message ? `${message}.`.replace(/\.\.$/, '.') : `refused (error ${status}).`,
    canRetry: false,
    stale: status === 412 ? staleEtag(detail) : undefined,
  };
}

/** The current version a 412 names (`details.etag`), for "Overwrite with mine". */
function staleEtag(/** @type {any} */ detail) {
  try {
    const etag = JSON.parse(detail.xhr?.responseText ?? '')?.error?.details?.etag;
    return typeof etag === 'string' ? etag : undefined;
  } catch {
    return undefined;
  }
}

/** Puts the notice where the person can reach it: in an open dialog, or on the page. */
function place(/** @type {HTMLElement} */ elt) {
  const dialog = elt.closest('dialog[open]');
  if (dialog) {
    if (box.parentElement !== dialog) dialog.prepend(box);
  } else if (box.parentElement !== document.body) document.body.append(box);
}

function show(/** @type {string} */ message, /** @type {boolean} */ canRetry, stale = false) {
  box.classList.add('open');
  actions.hidden = false;
  retry.hidden = !canRetry;
  overwrite.hidden = !stale;
  reload.hidden = !stale;
  // Emptied first, so that the same words said twice are announced twice.
  text.textContent = '';
  text.textContent = message;
}

function clear() {
  failed = undefined;
  box.classList.remove('open');
  actions.hidden = true;
  text.textContent = '';
}

/** @param {Event} event */
function onFailure(event) {
  const detail = detailOf(event);
  if (!isWrite(detail)) return;
  const elt = /** @type {HTMLElement} */ (detail.requestConfig?.elt ?? detail.elt);
  if (!(elt instanceof HTMLElement)) return;
  const { why, canRetry, stale } = reasonOf(event.type, detail);
  const what = describe(elt, detail);
  /** @type {Failure} */
  const failure = {
    elt,
    id: elt.id,
    verb: detail.requestConfig.verb,
    path: detail.requestConfig.path,
    what,
    form: !inPlace(elt),
    overwrite: stale,
  };
  let message;
  if (inPlace(elt)) {
    const control = /** @type {HTMLSelectElement | HTMLInputElement} */ (elt);
    failure.attempted = control.value;
    control.value = savedValue(control);
    const shown =
      control instanceof HTMLSelectElement ? control.selectedOptions[0]?.textContent : control.value;
    message = `Not saved: ${what} — ${why} It is back to “${shown ?? ''}”.`;
  } else {
    message = `Not done: ${what} — ${why}${canRetry ? ' What you entered is still here.' : ''}`;
  }
  if (stale) message += ' Nothing of yours was saved: overwrite with your choice, or reload.';
  failed = failure;
  place(elt);
  show(message, canRetry, stale !== undefined);
}

for (const type of ['htmx:sendError', 'htmx:timeout', 'htmx:responseError'])
  document.addEventListener(type, onFailure);

// A write that went through: the notice about it has served its purpose.
document.addEventListener('htmx:afterRequest', (event) => {
  const detail = detailOf(event);
  if (!failed || !isWrite(detail) || !detail.successful) return;
  if (detail.requestConfig.path !== failed.path || detail.requestConfig.verb !== failed.verb) return;
  const hadFocus = box.contains(document.activeElement);
  const id = failed.id;
  clear();
  if (hadFocus) {
    // Back to the control that was saved (re-rendered by now, or about to be: same id).
    requestAnimationFrame(() => (id ? document.getElementById(id) : null)?.focus());
  }
});

retry.addEventListener('click', () => {
  if (!failed) return;
  const { verb, path, attempted, id } = failed;
  // The list may have been re-rendered meanwhile: the same control now is the one with its id.
  const elt = (id && document.getElementById(id)) || failed.elt;
  if (!elt.isConnected) {
    show('That item is no longer on the page. Reload to see the latest.', false);
    return;
  }
  if (attempted !== undefined) /** @type {HTMLSelectElement} */ (elt).value = attempted;
  text.textContent = 'Trying again…';
  // Its failure is reported through the same htmx events as the first attempt's.
  htmx?.ajax(verb, path, { source: elt })?.catch?.(() => {});
});

overwrite.addEventListener('click', () => {
  if (!failed?.overwrite) return;
  const { verb, path, attempted, id } = failed;
  const elt = (id && document.getElementById(id)) || failed.elt;
  if (!elt.isConnected) {
    show('That item is no longer on the page. Reload to see the latest.', false);
    return;
  }
  if (attempted !== undefined) /** @type {HTMLSelectElement} */ (elt).value = attempted;
  text.textContent = 'Saving yours…';
  // The version the 412 named: refused again only if it changed once more meanwhile.
  htmx?.ajax(verb, path, { source: elt, values: { overwrite: failed.overwrite } })?.catch?.(() => {});
});

reload.addEventListener('click', () => location.reload());

dismiss.addEventListener('click', () => {
  const id = failed?.id;
  clear();
  (id ? document.getElementById(id) : null)?.focus();
});

// A dialog closed (saved, or given up): a notice about its form goes with it.
document.addEventListener(
  'close',
  (event) => {
    if (event.target instanceof HTMLDialogElement && event.target.contains(box)) {
      clear();
      document.body.append(box);
    }
  },
  true,
);
