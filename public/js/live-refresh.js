// @ts-check
/**
 * Live refreshes (htmx GETs triggered by `portal:change`, live-events.js) never undo what the
 * person just did or is doing:
 *
 * - Never older over newer. A fragment the server renders with `data-since` (the change log's
 *   position read with its rows, src/db/list.ts) is not swapped over one already shown with a
 *   higher position. Without this, a refresh asked for before a save and answered after it puts
 *   the row back as it was, and the next change of that row is refused as "changed meanwhile" by
 *   the person's own save. Skipping it loses nothing: every change later than what is shown sends
 *   its own `portal:change`, and its refresh carries a position at least as high.
 * - Not under a pressed pointer. A refresh that replaces a link or button between the press and
 *   the release swallows the click (the press and the release land on different elements, so the
 *   browser clicks neither). While a pointer is down (at most HOLD_POINTER_MS) refreshes wait, and
 *   one runs right after the release.
 * - Not over a choice not yet saved. A status select stepped through with the arrow keys waits for
 *   Enter or for the person to leave it (select-commit.js marks it with the hint it describes it
 *   by); a refresh would put the saved value back and drop the choice, so it waits too.
 *
 * Focus is already kept by htmx: the focused element's id is looked up in the new content.
 */

/** Long enough for any click; a press held longer is not a click, and the page must not go stale. */
const HOLD_POINTER_MS = 1000;
/** select-commit.js describes a select with this hint while its keyboard choice is not saved. */
const PENDING_SELECT = 'select[aria-describedby~="select-commit-hint"]';

/** When the pointer went down, while it is down. */
let pressedAt = 0;
/** A refresh was held back: run one when nothing holds any more. */
let held = false;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let capTimer;

const pointerHolds = () => pressedAt > 0 && performance.now() - pressedAt < HOLD_POINTER_MS;
const holding = () => pointerHolds() || document.querySelector(PENDING_SELECT) !== null;

/** Runs the held refresh once nothing holds it (after the current event, so a click lands first). */
function release() {
  setTimeout(() => {
    if (!held || holding()) return;
    held = false;
    document.body.dispatchEvent(new CustomEvent('portal:change'));
  }, 0);
}

document.addEventListener(
  'pointerdown',
  () => {
    pressedAt = performance.now();
    clearTimeout(capTimer);
    capTimer = setTimeout(release, HOLD_POINTER_MS);
  },
  true,
);
for (const type of ['pointerup', 'pointercancel', 'dragstart']) {
  window.addEventListener(
    type,
    () => {
      pressedAt = 0;
      release();
    },
    true,
  );
}
// A keyboard choice committed (Enter), taken back (Escape) or left (focus moves on).
for (const type of ['keyup', 'focusout', 'change']) document.addEventListener(type, release, true);

document.addEventListener('htmx:beforeRequest', (event) => {
  const detail = /** @type {any} */ (/** @type {CustomEvent} */ (event).detail ?? {});
  const config = detail.requestConfig ?? {};
  const isRefresh =
    String(config.verb ?? '').toLowerCase() === 'get' && config.triggeringEvent?.type === 'portal:change';
  if (!isRefresh || !holding()) return;
  event.preventDefault();
  held = true;
});

/** The `data-since` of a fragment's first element, if it has one. */
const FIRST_TAG_SINCE = /^\s*<[^>]*?\sdata-since="(\d+)"/;

document.addEventListener('htmx:beforeSwap', (event) => {
  const detail = /** @type {any} */ (/** @type {CustomEvent} */ (event).detail ?? {});
  if (!detail.shouldSwap || !(detail.target instanceof HTMLElement)) return;
  const shown = detail.target.dataset.since;
  const incoming =
    typeof detail.serverResponse === 'string' ? FIRST_TAG_SINCE.exec(detail.serverResponse) : null;
  if (shown === undefined || !incoming) return;
  if (Number(incoming[1]) < Number(shown)) detail.shouldSwap = false;
});
