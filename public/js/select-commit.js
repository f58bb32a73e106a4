// @ts-check
/**
 * In-place selects that save on change (`select[hx-post]`, e.g. a task's status) save once the
 * choice is made, not on every value passed through. With the mouse (or an opened list) a change
 * is a choice: it saves at once, as before. With arrow keys (or typing) on a closed select the
 * browser fires `change` for every step; those are held back until the person commits with
 * Enter or by leaving the control (Tab, click elsewhere). Escape puts the saved value back.
 * A hint tied to the control (aria-describedby) says so while a choice is pending.
 */

const HINT_ID = 'select-commit-hint';
const hint = document.createElement('span');
hint.id = HINT_ID;
hint.className = 'sr-only';
hint.textContent = 'Not saved yet: press Enter to save, Escape to undo.';
document.body.append(hint);

/** Keys that step through a closed select's values. */
const STEP = new Set([
  'ArrowUp',
  'ArrowDown',
  'ArrowLeft',
  'ArrowRight',
  'Home',
  'End',
  'PageUp',
  'PageDown',
]);

/** Selects with a choice made by keyboard and not yet saved. */
const pending = new WeakSet();
/** The change events this module sends itself: they pass. */
let committing = false;

/** @param {EventTarget | null} target */
const autoSaving = (target) =>
  target instanceof HTMLSelectElement && target.hasAttribute('hx-post') ? target : undefined;

/** The value the server last rendered (`data-saved`, else the `selected` option). */
function saved(/** @type {HTMLSelectElement} */ select) {
  if (select.dataset.saved !== undefined) return select.dataset.saved;
  return ([...select.options].find((o) => o.defaultSelected) ?? select.options[0])?.value ?? '';
}

function describe(/** @type {HTMLSelectElement} */ select, /** @type {boolean} */ on) {
  const ids = (select.getAttribute('aria-describedby') ?? '')
    .split(/\s+/)
    .filter((id) => id && id !== HINT_ID);
  if (on) ids.push(HINT_ID);
  if (ids.length) select.setAttribute('aria-describedby', ids.join(' '));
  else select.removeAttribute('aria-describedby');
}

function commit(/** @type {HTMLSelectElement} */ select) {
  if (!pending.has(select)) return;
  pending.delete(select);
  describe(select, false);
  if (select.value === saved(select)) return;
  committing = true;
  try {
    select.dispatchEvent(new Event('change', { bubbles: true }));
  } finally {
    committing = false;
  }
}

document.addEventListener(
  'keydown',
  (event) => {
    const select = autoSaving(event.target);
    if (!select) return;
    if (event.key === 'Enter' && pending.has(select)) {
      event.preventDefault();
      commit(select);
    } else if (event.key === 'Escape' && pending.has(select)) {
      event.preventDefault();
      pending.delete(select);
      describe(select, false);
      select.value = saved(select);
    } else if (
      (STEP.has(event.key) && !event.altKey) ||
      (event.key.length === 1 && event.key !== ' ' && !event.ctrlKey && !event.metaKey)
    ) {
      // Stepping (or type-ahead) on the closed select: whatever it lands on waits for a commit.
      pending.add(select);
      describe(select, true);
    }
  },
  true,
);

// A pointer choosing from the list is a choice: nothing to hold back.
document.addEventListener(
  'pointerdown',
  (event) => {
    const select = autoSaving(event.target);
    if (select) pending.delete(select);
  },
  true,
);

// Before htmx (listening on the select itself) sees it: hold a keyboard step back.
document.addEventListener(
  'change',
  (event) => {
    const select = autoSaving(event.target);
    if (select && pending.has(select) && !committing) event.stopImmediatePropagation();
  },
  true,
);

// Leaving the control commits the choice it shows.
document.addEventListener('focusout', (event) => {
  const select = autoSaving(event.target);
  if (select) commit(select);
});
