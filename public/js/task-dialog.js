// @ts-check
/**
 * The create and edit dialogs of the tasks page, the `taskDialog` Alpine component
 * (src/tasks/list-view.tsx TasksPage). htmx loads a form into the dialog's body (a "New task" or
 * "Edit" button, which the component notes as the opener); the component opens the native modal
 * <dialog> around it (the browser keeps the focus inside, Escape closes it), moves the focus to the
 * first field with an error after a refused save, and gives the focus back to the opener when the
 * dialog closes: Escape, Cancel, or a save the server accepted (`task-dialog:done`, whose words
 * go into #task-notice). Registered before alpine-components.js starts Alpine.
 */
import Alpine from './alpine.js';

/** @param {Element | null | undefined} el */
const focusable = (el) => (el instanceof HTMLElement ? el : null);

/** The task is gone (deleted): the nearest sensible place is the "New task" button or the search. */
function fallbackFocus() {
  focusable(document.getElementById('task-new') ?? document.getElementById('task-q'))?.focus();
}

Alpine.data('taskDialog', () => ({
  /** What the last save did, for #task-notice. */
  taskNotice: '',
  /** Is the loaded form's heading there to name the dialog? */
  titled: false,
  /** The id of the button that opened the dialog: the list may have been re-rendered meanwhile. */
  openerId: '',
  /** Focus still to hand back once the list holding the opener has been re-rendered after a save. */
  pendingFocus: '',
  /** Did the dialog close because the server accepted a save? */
  saved: false,
  get labelledBy() {
    return this.titled ? 'task-dialog-title' : null;
  },
  /** An opener was pressed (it loads the form with htmx). @param {string} id */
  opening(id) {
    this.openerId = id;
  },
  /** A form arrived in the dialog's body (first, or after a refused save). */
  loaded() {
    const dialog = /** @type {HTMLDialogElement} */ (this.$refs.dialog);
    const body = this.$refs.body;
    if (!body?.querySelector('form')) return;
    if (!dialog.open) this.taskNotice = '';
    this.titled = Boolean(body.querySelector('#task-dialog-title'));
    if (!dialog.open) dialog.showModal();
    const target =
      focusable(dialog.querySelector('[aria-invalid="true"]')) ??
      focusable(dialog.querySelector('[autofocus]')) ??
      focusable(dialog.querySelector('input, select, textarea, button'));
    target?.focus();
  },
  /** The server accepted a save. @param {CustomEvent} event */
  done(event) {
    const text = event.detail?.text;
    if (typeof text === 'string') this.taskNotice = text;
    this.saved = true;
    /** @type {HTMLDialogElement} */ (this.$refs.dialog).close();
  },
  cancel() {
    /** @type {HTMLDialogElement} */ (this.$refs.dialog).close();
  },
  /** Escape (the browser's own "cancel"), Cancel, or a save: empty it and give the focus back. */
  closed() {
    this.$refs.body?.replaceChildren();
    this.titled = false;
    const opener = this.openerId ? document.getElementById(this.openerId) : null;
    if (opener?.isConnected) {
      opener.focus();
      this.pendingFocus = this.saved ? this.openerId : '';
    } else {
      fallbackFocus();
      this.pendingFocus = '';
    }
    this.saved = false;
  },
  /** The list was re-rendered (after a save): the opener is a new element with the same id. */
  listShown() {
    if (!this.pendingFocus) return;
    const again = document.getElementById(this.pendingFocus);
    this.pendingFocus = '';
    if (document.activeElement === document.body || !document.activeElement) {
      if (again) again.focus();
      else fallbackFocus();
    }
  },
}));
