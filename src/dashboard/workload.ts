import { sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor.ts';
import { type Db, query } from '../db/database.ts';
import { shownName } from '../db/pickers.ts';
import type { TaskStatus } from '../db/schema/enums.ts';
import { forbidden } from '../errors.ts';

/** Open work is everything not done. */
export const OPEN_STATUSES = ['todo', 'in_progress', 'blocked'] as const satisfies readonly TaskStatus[];
type OpenStatus = (typeof OPEN_STATUSES)[number];

export interface Load {
  /** null: the tasks nobody has yet. */
  id: number | null;
  name: string;
  username: string | null;
  active: boolean;
  counts: Record<OpenStatus, number>;
  open: number;
  overdue: number;
}

/**
 * Open tasks per person by status, and how many are late: for an admin across the organisation,
 * for a manager across the projects they own (the people working on them, whatever their role).
 * One statement (GROUP BY assignee and status), the same overdue rule as the dashboard.
 */
export async function workload(db: Db, actor: Actor): Promise<Load[]> {
  if (actor.role === 'user') throw forbidden('Only admins and managers can see the workload');
  const scope =
    actor.role === 'admin'
      ? sql`true`
      : sql`t.project_id = any(array(select id from projects where owner_id = ${actor.id}))`;
  const rows = await query<{
    assignee_id: number | null;
    username: string | null;
    display_name: string | null;
    active: boolean | null;
    status: OpenStatus;
    n: number;
    overdue: number;
  }>(
    db,
    sql`select t.assignee_id, u.username, u.display_name, u.active, t.status, count(*)::int as n,
               count(*) filter (where t.due_date < (now() at time zone 'UTC')::date)::int as overdue
        from tasks t left join users u on u.id = t.assignee_id
        where t.status <> 'done' and ${scope}
        group by t.assignee_id, u.username, u.display_name, u.active, t.status`,
  );
  const people = new Map<number | null, Load>();
  for (const row of rows) {
    let load = people.get(row.assignee_id);
    if (!load) {
      load = {
        id: row.assignee_id,
        name:
          row.username === null
            ? 'Unassigned'
            : shownName({ username: row.username, display_name: row.display_name ?? '' }),
        username: row.username,
        active: row.active ?? true,
        counts: { todo: 0, in_progress: 0, blocked: 0 },
        open: 0,
        overdue: 0,
      };
      people.set(row.assignee_id, load);
    }
    load.counts[row.status] = row.n;
    load.open += row.n;
    load.overdue += row.overdue;
  }
  // The busiest first; nobody's tasks last.
  return [...people.values()].sort(
    (a, b) =>
      Number(a.id === null) - Number(b.id === null) || b.open - a.open || a.name.localeCompare(b.name),
  );
}
