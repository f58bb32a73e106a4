// @ts-check
/**
 * Fields with a length limit state it under the field ("Up to 200 characters.", rendered by the
 * server); as one types, the same line counts: "12 of 200 characters". Typing past the limit is
 * not possible (maxlength), so nothing typed is ever cut off by the server. Works on fields htmx
 * swaps in later (the event is delegated). See docs/ui-details.md.
 */

/** @param {EventTarget | null} field */
function update(field) {
  if (!(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement)) return;
  const limit = document.getElementById(`${field.id}-limit`);
  const max = Number(limit?.dataset.limit);
  if (!limit || !max) return;
  const used = field.value.length;
  limit.textContent =
    used === 0
      ? `Up to ${max.toLocaleString('en')} characters.`
      : `${used.toLocaleString('en')} of ${max.toLocaleString('en')} characters`;
  limit.classList.toggle('at-limit', used >= max);
}

document.addEventListener('input', (event) => update(event.target));
/** Fields that already hold text (a draft kept after a refused save, an edit form) count from the start. */
function all() {
  for (const limit of document.querySelectorAll('[data-limit]')) {
    update(document.getElementById(limit.id.replace(/-limit$/, '')));
  }
}
all();
document.body.addEventListener('htmx:afterSettle', all);
