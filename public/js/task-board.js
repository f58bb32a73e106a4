// @ts-check
/**
 * The task board of the tasks page (src/tasks/board-view.tsx), as two Alpine components:
 *
 * - `taskBoard`, on the part of the page htmx refreshes (it outlives the refreshes): the notice that
 *   says what a move did (#board-notice, a live region), the columns' counts (the server's total
 *   plus the moves made here since), the column a dragged card is over, and a refresh held back
 *   until a drag ends.
 * - `boardCard`, on each card: its column (which moves the card's "Move to" button of that column
 *   along as disabled) and version, and the moves: by dragging it, by Alt+← / Alt+→ anywhere on
 *   it, or from its Move menu (a plain form that works without JavaScript).
 *
 * A card moves at once and its status is saved with the API (PATCH /api/tasks/:id, If-Match: the
 * version the board showed); a refused or failed save puts it back where it was and says why.
 * Other viewers' boards follow through the realtime `portal:change` refresh (live-events.js); so
 * does this one, once the save is in. Registered before alpine-components.js starts Alpine.
 */
import Alpine from './alpine.js';

/**
 * @typedef {object} Board
 * @property {Record<string, string>} labels Column names by status, in board order.
 * @property {Record<string, number>} moved Cards moved into (+) or out of (−) each column since the server counted.
 * @property {string} boardSaid
 * @property {boolean} boardRefused
 * @property {boolean} dragInProgress
 * @property {string} dropOver The column a dragged card is over.
 * @property {boolean} refreshWaiting A refresh asked for during a drag: it runs when the drag ends.
 * @property {() => void} init
 * @property {(text: string, refused: boolean) => void} say
 * @property {(status: string) => string} labelOf
 * @property {(status: string, counted: number) => number} total
 * @property {() => void} counted
 * @property {(status: string, event: DragEvent) => void} dragOver
 * @property {(status: string) => void} drop
 * @property {(event: Event) => void} holdRefresh
 * @property {() => void} dragEnded
 * @property {() => void} rememberFocus
 * @property {() => void} restoreFocus
 */
/**
 * @typedef {object} Card
 * @property {string} status
 * @property {string} version
 * @property {string} title
 * @property {boolean} lifted Being dragged.
 * @property {Promise<boolean>} saving
 * @property {number} moves
 * @property {() => void} init
 * @property {(to: string, before?: Node | null) => void} place
 * @property {(by: number) => void} step
 * @property {(event: SubmitEvent) => void} fromMenu
 * @property {(event: DragEvent) => void} lift
 * @property {() => void} land
 * @property {(to: string) => Promise<void>} move
 * @property {(to: string, from: string, next: ChildNode | null, move: number) => Promise<boolean>} save
 * @property {(current: any, from: string) => string} staleWhat
 */
/** @typedef {import('./alpine.js').Magics} Magics */

/** The card being dragged (not page state: nothing shows it but the card's own `lifted`). */
/** @type {(Card & Board) | undefined} */
let dragged;
/** The card focused, and the card whose Move menu was open, when a refresh replaced the board. */
/** @type {string | undefined} */
let focusedCard;
/** @type {string | undefined} */
let openMenu;

/** @param {string} id */
const cardById = (id) => document.querySelector(`[data-board] [data-card="${CSS.escape(id)}"]`);

Alpine.data(
  'taskBoard',
  /** @returns {Board & ThisType<Board & Magics>} */ () => ({
    labels: {},
    moved: {},
    boardSaid: '',
    boardRefused: false,
    dragInProgress: false,
    dropOver: '',
    refreshWaiting: false,
    init() {
      this.labels = JSON.parse(this.$el.dataset.labels ?? '{}');
    },
    /** @param {string} status */
    labelOf(status) {
      return this.labels[status] ?? status;
    },
    /** A column's count: the server's, and the moves made here since. @param {string} status @param {number} counted */
    total(status, counted) {
      return counted + (this.moved[status] ?? 0);
    },
    /** The board (re-)rendered by the server: its counts are current. */
    counted() {
      this.moved = {};
    },
    /** @param {string} text @param {boolean} refused */
    say(text, refused) {
      // Emptied first, so that the same words twice are announced twice.
      this.boardSaid = '';
      requestAnimationFrame(() => {
        this.boardRefused = refused;
        this.boardSaid = text;
      });
    },
    /** @param {string} status @param {DragEvent} event */
    dragOver(status, event) {
      if (!this.dragInProgress) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'move';
      this.dropOver = status;
    },
    /** @param {string} status */
    drop(status) {
      this.dropOver = '';
      if (dragged) void dragged.move(status);
    },
    /** A live refresh re-renders the board: not in the middle of a drag. @param {Event} event */
    holdRefresh(event) {
      if (!this.dragInProgress) return;
      event.preventDefault();
      this.refreshWaiting = true;
    },
    dragEnded() {
      this.dragInProgress = false;
      this.dropOver = '';
      dragged = undefined;
      if (this.refreshWaiting) {
        this.refreshWaiting = false;
        document.body.dispatchEvent(new CustomEvent('portal:change'));
      }
    },
    /** Before a refresh: which card has the focus, whose Move menu is open. */
    rememberFocus() {
      const card = document.activeElement?.closest('[data-board] [data-card]');
      focusedCard = card instanceof HTMLElement ? card.dataset.card : undefined;
      const open = document.querySelector('[data-board] details.move[open]')?.closest('[data-card]');
      openMenu = open instanceof HTMLElement ? open.dataset.card : undefined;
    },
    /** After it: the same card keeps the focus, and an open Move menu stays open. */
    restoreFocus() {
      if (openMenu) cardById(openMenu)?.querySelector('details.move')?.setAttribute('open', '');
      openMenu = undefined;
      if (!focusedCard) return;
      const again = cardById(focusedCard)?.querySelector('summary');
      focusedCard = undefined;
      if (again && (!document.activeElement || document.activeElement === document.body)) again.focus();
    },
  }),
);

Alpine.data(
  'boardCard',
  /** @returns {Card & ThisType<Card & Board & Magics>} */ () => ({
    status: '',
    version: '',
    title: '',
    lifted: false,
    /** The last save of a move (see `move`): true when it was saved. @type {Promise<boolean>} */
    saving: Promise.resolve(true),
    /** How many moves of this card were asked for (see `move`). */
    moves: 0,
    init() {
      this.status = this.$el.dataset.status ?? '';
      this.version = this.$el.dataset.version ?? '';
      this.title = this.$el.querySelector('.card-title')?.textContent ?? '';
    },
    /** Alt+← / Alt+→: one column along. @param {number} by */
    step(by) {
      const order = Object.keys(this.labels);
      const to = order[order.indexOf(this.status) + by];
      if (to) void this.move(to);
      else this.say(`“${this.title}” is already in the ${by < 0 ? 'first' : 'last'} column.`, false);
    },
    /** The Move menu's form, submitted with the button of a column. @param {SubmitEvent} event */
    fromMenu(event) {
      const to = /** @type {HTMLButtonElement | null} */ (event.submitter)?.value;
      this.$root.querySelector('details')?.removeAttribute('open');
      this.$root.querySelector('summary')?.focus();
      if (to) void this.move(to);
    },
    /** @param {DragEvent} event */
    lift(event) {
      if (!event.dataTransfer) return;
      this.lifted = true;
      this.dragInProgress = true;
      dragged = this;
      event.dataTransfer.effectAllowed = 'move';
      event.dataTransfer.setData('text/plain', this.$root.dataset.card ?? '');
    },
    land() {
      this.lifted = false;
      this.dragEnded();
    },
    /** Into a column's list (first, or before `before`), keeping the focus on the card. */
    place(to, before = null) {
      const card = this.$root;
      const list = document.querySelector(`[data-board] [data-column="${CSS.escape(to)}"] [data-cards]`);
      if (!list) return;
      const focused = card.contains(document.activeElement) ? document.activeElement : null;
      this.moved[this.status] = (this.moved[this.status] ?? 0) - 1;
      this.moved[to] = (this.moved[to] ?? 0) + 1;
      list.insertBefore(card, before && before.parentNode === list ? before : list.firstChild);
      this.status = to;
      if (focused instanceof HTMLElement) {
        // The column's own button is about to be disabled: the card's Move button takes the focus.
        const gone = focused instanceof HTMLButtonElement && focused.value === to;
        (gone ? card.querySelector('summary') : focused)?.focus();
      }
    },
    async move(to) {
      const from = this.status;
      if (from === to || !(to in this.labels)) return;
      const card = this.$root;
      const next = card.nextSibling;
      this.place(to);
      this.say(`Moved “${this.title}” to ${this.labelOf(to)}. Saving…`, false);
      // One save at a time per card, each sending the version the one before got back: a second
      // move made while the first is being saved would otherwise send the old version and be
      // refused as "changed meanwhile" by this very board's first move. A save that fails drops
      // the moves queued behind it (the card goes back to where that save found it).
      const move = ++this.moves;
      const saved = this.saving.then((earlierSaved) =>
        earlierSaved ? this.save(to, from, next, move) : false,
      );
      this.saving = saved;
      await saved;
    },
    /**
     * Saves one move (see `move`, which numbers them); true when it was saved.
     * @param {string} to @param {string} from @param {ChildNode | null} next @param {number} move
     */
    async save(to, from, next, move) {
      const card = this.$root;
      /** @type {string} */
      let reason;
      try {
        /** @type {Record<string, string>} */
        const headers = { 'content-type': 'application/json', accept: 'application/json' };
        // The version the board showed: a task changed since is not moved over that change (412).
        if (this.version) headers['if-match'] = this.version;
        const res = await fetch(`/api/tasks/${encodeURIComponent(card.dataset.card ?? '')}`, {
          method: 'PATCH',
          headers,
          body: JSON.stringify({ status: to }),
        });
        if (res.ok) {
          this.version = res.headers.get('etag') ?? this.version;
          // Said unless a later move of this card is waiting to be saved (that one says its own).
          if (move === this.moves) this.say(`Moved “${this.title}” to ${this.labelOf(to)}.`, false);
          return true;
        }
        const body = await res.json().catch(() => undefined);
        reason =
          res.status === 412
            ? `it was changed meanwhile${this.staleWhat(body?.error?.details?.current, from)}, so nothing was saved. The board shows the current tasks; move it again to overwrite`
            : (body?.error?.message ?? `the portal answered ${res.status}`);
        if (res.status === 412) document.body.dispatchEvent(new CustomEvent('portal:change'));
      } catch {
        reason = 'the portal could not be reached';
      }
      // Refused or not saved: back where it was, if the board still shows it (a refresh redrew it).
      if (card.isConnected) this.place(from, next);
      this.say(`Could not move “${this.title}”: ${reason}. It is back in ${this.labelOf(from)}.`, true);
      return false;
    },
    /** What a 412's current task differs in from the card, in words. @param {any} current @param {string} from */
    staleWhat(current, from) {
      if (!current || typeof current !== 'object') return '';
      const said = [];
      if (current.title !== this.title) said.push(`its title is now “${current.title}”`);
      if (current.status !== from) said.push(`it is now in ${this.labelOf(current.status)}`);
      return said.length ? ` (${said.join(', ')})` : '';
    },
  }),
);
