/** Today's date in UTC (YYYY-MM-DD): the day the database calls `today` for overdue counts. */
export const utcToday = (now = new Date()) => now.toISOString().slice(0, 10);

/** Whole days from `from` to `to`, both YYYY-MM-DD. */
const daysBetween = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

/** "3 days late", "due today", "due tomorrow", "due in 5 days"; a done task's date is only a date. */
export function relativeDue(due: string, status: string, today = utcToday()): string | undefined {
  if (status === 'done') return undefined;
  const days = daysBetween(today, due);
  if (days < -1) return `${-days} days late`;
  if (days === -1) return '1 day late';
  if (days === 0) return 'due today';
  if (days === 1) return 'due tomorrow';
  return `due in ${days} days`;
}

/** Is the task late (due before today and not done)? The same rule as the dashboard's overdue count. */
export const isOverdue = (due: string | null, status: string, today = utcToday()) =>
  due !== null && status !== 'done' && due < today;

/** A due date as a list shows it: the date, and how far off it is; late ones marked in words and colour. */
export function DueDate(props: { due: string | null; status: string; today?: string }) {
  if (props.due === null) return <span class="muted">—</span>;
  const today = props.today ?? utcToday();
  const late = isOverdue(props.due, props.status, today);
  const relative = relativeDue(props.due, props.status, today);
  return (
    <span class={late ? 'due overdue' : 'due'} data-overdue={late ? 'true' : undefined}>
      <time datetime={props.due}>{props.due}</time>
      {relative && <span class="due-relative"> · {relative}</span>}
    </span>
  );
}
