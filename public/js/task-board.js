// @ts-check
/**
 * The task board of the tasks page (src/tasks/board-view.tsx): move a card to another column by
 * dragging it, by Alt+← / Alt+→ on its Move button, or from its Move menu. The card moves at once
 * and the status is saved with the API (PATCH /api/tasks/:id); a refused or failed save puts the
 * card back where it was and says why. Every move is announced in #board-notice (a live region
 * outside the list, which htmx re-renders). Other viewers' boards follow through the realtime
 * `portal:change` refresh (public/js/live-events.js); so does this one, once the save is in.
 */

const notice = document.getElementById('board-notice');

/** Columns in board order. */
const columns = () =>
  /** @type {HTMLElement[]} */ ([...document.querySelectorAll('[data-board] [data-column]')]);
/** @param {string} status */
const columnOf = (status) => columns().find((c) => c.dataset.column === status);
/** @param {HTMLElement} column */
const labelOf = (column) =>
  column.querySelector('h3')?.firstChild?.textContent?.trim() ?? column.dataset.column ?? '';
/** @param {HTMLElement} card */
const titleOf = (card) => card.querySelector('.card-title')?.textContent ?? '';

/** @param {string} text @param {boolean} refused */
function say(text, refused) {
  if (!notice) return;
  // Emptied first, so that the same words twice are announced twice.
  notice.textContent = '';
  requestAnimationFrame(() => {
    notice.classList.toggle('refused', refused);
    notice.textContent = text;
  });
}

/** @param {HTMLElement} column @param {number} by */
function recount(column, by) {
  const count = column.querySelector('[data-count]');
  if (count) count.textContent = String(Number(count.textContent) + by);
}

/**
 * Puts a card into a column (first, or before `before`) and keeps its menu and focus in step.
 * @param {HTMLElement} card @param {HTMLElement} column @param {Node | null} [before]
 */
function place(card, column, before = null) {
  const list = column.querySelector('[data-cards]');
  if (!list) return;
  const focused = card.contains(document.activeElement) ? document.activeElement : null;
  const from = columnOf(card.dataset.status ?? '');
  if (from) recount(from, -1);
  recount(column, +1);
  list.insertBefore(card, before && before.parentNode === list ? before : list.firstChild);
  card.dataset.status = column.dataset.column;
  for (const button of card.querySelectorAll('button[data-move-to]')) {
    /** @type {HTMLButtonElement} */ (button).disabled =
      /** @type {HTMLElement} */ (button).dataset.moveTo === card.dataset.status;
  }
  if (focused instanceof HTMLElement) {
    // A focused button that is now disabled (the new column) hands focus to the card's Move button.
    const target =
      focused instanceof HTMLButtonElement && focused.disabled ? card.querySelector('summary') : focused;
    /** @type {HTMLElement | null} */ (target)?.focus();
  }
}

/** Moves in flight: the refresh that follows them is welcome, one in the middle of a drag is not. */
let dragging = false;
let refreshWaiting = false;

/**
 * What a 412's current task differs in from the card, in words.
 * @param {any} current @param {HTMLElement} card @param {string} fromStatus
 */
function staleWhat(current, card, fromStatus) {
  if (!current || typeof current !== 'object') return '';
  const said = [];
  if (current.title !== titleOf(card)) said.push(`its title is now “${current.title}”`);
  if (current.status !== fromStatus) {
    const column = columnOf(current.status);
    said.push(`it is now in ${column ? labelOf(column) : current.status}`);
  }
  return said.length ? ` (${said.join(', ')})` : '';
}

/** @param {HTMLElement} card @param {string} to */
async function move(card, to) {
  const fromStatus = card.dataset.status ?? '';
  const from = columnOf(fromStatus);
  const target = columnOf(to);
  if (!from || !target || fromStatus === to) return;
  const title = titleOf(card);
  const next = card.nextSibling;
  place(card, target);
  say(`Moved “${title}” to ${labelOf(target)}. Saving…`, false);
  /** @type {string} */
  let reason;
  try {
    /** @type {Record<string, string>} */
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    // The version the board showed: a task changed since is not moved over that change (412).
    if (card.dataset.version) headers['if-match'] = card.dataset.version;
    const res = await fetch(`/api/tasks/${encodeURIComponent(card.dataset.card ?? '')}`, {
      method: 'PATCH',
      headers,
      body: JSON.stringify({ status: to }),
    });
    if (res.ok) {
      const etag = res.headers.get('etag');
      if (etag) card.dataset.version = etag;
      say(`Moved “${title}” to ${labelOf(target)}.`, false);
      return;
    }
    const body = await res.json().catch(() => undefined);
    reason =
      res.status === 412
        ? `it was changed meanwhile${staleWhat(body?.error?.details?.current, card, fromStatus)}, so nothing was saved. The board shows the current tasks; move it again to overwrite`
        : (body?.error?.message ?? `the portal answered ${res.status}`);
    if (res.status === 412) document.body.dispatchEvent(new CustomEvent('portal:change'));
  } catch {
    reason = 'the portal could not be reached';
  }
  // Refused or not saved: back where it was, if the board still shows it.
  if (card.isConnected && from.isConnected) place(card, from, next);
  say(`Could not move “${title}”: ${reason}. It is back in ${labelOf(from)}.`, true);
}

// --- Keyboard: Alt+← / Alt+→ on a card moves it one column along.
document.addEventListener('keydown', (event) => {
  if (!event.altKey || (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight')) return;
  const card = event.target instanceof Element ? event.target.closest('[data-board] [data-card]') : null;
  if (!(card instanceof HTMLElement)) return;
  event.preventDefault();
  const all = columns();
  const at = all.findIndex((c) => c.dataset.column === card.dataset.status);
  const to = all[at + (event.key === 'ArrowLeft' ? -1 : 1)];
  if (!to) {
    say(
      `“${titleOf(card)}” is already in the ${event.key === 'ArrowLeft' ? 'first' : 'last'} column.`,
      false,
    );
    return;
  }
  void move(card, to.dataset.column ?? '');
});

// --- The Move menu: a form that works without JavaScript; with it, the same move as the others.
document.addEventListener('submit', (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.closest('[data-board] details.move')) return;
  const card = form.closest('[data-card]');
  const to = /** @type {HTMLButtonElement | null} */ (event.submitter)?.value;
  if (!(card instanceof HTMLElement) || !to) return;
  event.preventDefault();
  form.closest('details')?.removeAttribute('open');
  card.querySelector('summary')?.focus();
  void move(card, to);
});

// --- Drag and drop.
document.addEventListener('dragstart', (event) => {
  const card = event.target instanceof Element ? event.target.closest('[data-board] [data-card]') : null;
  if (!(card instanceof HTMLElement) || !event.dataTransfer) return;
  dragging = true;
  card.classList.add('dragging');
  event.dataTransfer.effectAllowed = 'move';
  event.dataTransfer.setData('text/plain', card.dataset.card ?? '');
});
/** @param {Event} event */
const columnAt = (event) =>
  event.target instanceof Element ? event.target.closest('[data-board] [data-column]') : null;
document.addEventListener('dragover', (event) => {
  const column = columnAt(event);
  if (!(column instanceof HTMLElement) || !dragging) return;
  event.preventDefault();
  if (event.dataTransfer) event.dataTransfer.dropEffect = 'move';
  for (const c of columns()) c.classList.toggle('drop-target', c === column);
});
document.addEventListener('drop', (event) => {
  const column = columnAt(event);
  if (!(column instanceof HTMLElement)) return;
  event.preventDefault();
  const id = event.dataTransfer?.getData('text/plain');
  const card = id ? document.querySelector(`[data-board] [data-card="${CSS.escape(id)}"]`) : null;
  if (card instanceof HTMLElement) void move(card, column.dataset.column ?? '');
});
document.addEventListener('dragend', (event) => {
  dragging = false;
  if (event.target instanceof Element) event.target.classList.remove('dragging');
  for (const c of columns()) c.classList.remove('drop-target');
  if (refreshWaiting) {
    refreshWaiting = false;
    document.body.dispatchEvent(new CustomEvent('portal:change'));
  }
});

// --- Live refreshes re-render the board: not in the middle of a drag; the focus stays on its card,
// and an open Move menu stays open.
/** @type {string | undefined} */
let focusedCard;
/** @type {string | undefined} */
let openMenu;
document.body.addEventListener('htmx:beforeRequest', (event) => {
  const elt = /** @type {CustomEvent} */ (event).detail?.elt;
  if (dragging && elt instanceof Element && elt.querySelector('#task-results')) {
    event.preventDefault();
    refreshWaiting = true;
  }
});
document.body.addEventListener('htmx:beforeSwap', () => {
  const card = document.activeElement?.closest('[data-board] [data-card]');
  focusedCard = card instanceof HTMLElement ? card.dataset.card : undefined;
  const open = document.querySelector('[data-board] details.move[open]')?.closest('[data-card]');
  openMenu = open instanceof HTMLElement ? open.dataset.card : undefined;
});
/** @param {string} id */
const cardById = (id) => document.querySelector(`[data-board] [data-card="${CSS.escape(id)}"]`);
document.body.addEventListener('htmx:afterSwap', () => {
  if (openMenu) cardById(openMenu)?.querySelector('details.move')?.setAttribute('open', '');
  openMenu = undefined;
  if (!focusedCard) return;
  const again = cardById(focusedCard)?.querySelector('summary');
  focusedCard = undefined;
  if (again instanceof HTMLElement && (!document.activeElement || document.activeElement === document.body))
    again.focus();
});
