/** Number and table formatting shared by the markdown reports the benchmarks write. */

export const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
export const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a');
export const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
export const sum = <T>(items: readonly T[], of: (item: T) => number) =>
  items.reduce((n, item) => n + of(item), 0);
/** One markdown table row. */
export const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
/** `2026-12-03 17:14` (UTC). */
export const utcMinute = (date: Date) => date.toISOString().slice(0, 16).replace('T', ' ');
