import { type SQL, sql } from 'drizzle-orm';
import { type Db, query } from '../db/database.ts';
import { type Role, TASK_STATUSES, type TaskStatus } from '../db/schema/enums.ts';
import type { Dashboard, DocNotification, StatusCounts } from './document.ts';

/**
 * The dashboard document (docs/contract.md §5; its one declaration is dashboard-document.ts).
 * `computeDashboards` builds it for any number of users in one SQL statement, whatever
 * the batch size: the realtime leader calls it with every user a change touches.
 */
export type { Dashboard, DocNotification, NotificationsSection, StatusCounts } from './document.ts';

/** How many notifications the document (and the bell) holds; the rest are in GET /api/notifications. */
export const NOTIFICATIONS_IN_DOCUMENT = 20;

export const HISTORY_DAYS = 14;

const zeroCounts = (): StatusCounts => Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as StatusCounts;

/** One array parameter, whatever the length, so the statement text never changes. */
const intArray = (ids: Iterable<number>) => `{${[...ids].map((id) => Math.trunc(id)).join(',')}}`;

const today = sql`(now() at time zone 'UTC')::date`;

interface Person {
  id: number;
  role: Role;
  today: string;
  unread: number;
  latest: Record<string, DocNotification>;
}
interface RowSets {
  people: Person[];
  mine: { assignee_id: number; status: TaskStatus; n: number; overdue: number }[];
  team: { owner_id: number; status: TaskStatus; n: number }[];
  progress: { id: number; name: string; owner_id: number; done: number; total: number }[];
  byRole: { role: Role; n: number }[];
  org: { status: TaskStatus; n: number }[];
  completed: { scope: 'user' | 'manager' | 'org'; key: number; day: string; n: number }[];
}

/** The people of `ids` (active ones), with their unread count and newest notifications. */
const peopleOf = (ids: SQL) =>
  sql`select u.id, u.role, ${today}::text as today,
             (select count(*)::int from notifications n where n.user_id = u.id and n.read_at is null) as unread,
             (select coalesce(jsonb_object_agg(l.id::text, jsonb_strip_nulls(jsonb_build_object(
                       'kind', l.kind, 'message', l.message, 'task_id', l.task_id,
                       'at', to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                       'read', l.read_at is not null))), '{}'::jsonb)
                from (select * from notifications n where n.user_id = u.id
                      order by n.id desc limit ${sql.raw(String(NOTIFICATIONS_IN_DOCUMENT))}) l) as latest
        from users u where u.active and u.id = any(${ids})`;
const mineOf = (ids: SQL) =>
  sql`select assignee_id, status, count(*)::int as n,
             count(*) filter (where due_date < ${today} and status <> 'done')::int as overdue
        from tasks where assignee_id = any(${ids}) group by assignee_id, status`;
const teamOf = (managers: SQL) =>
  sql`select p.owner_id, t.status, count(*)::int as n from tasks t join projects p on p.id = t.project_id
        where p.owner_id = any(${managers}) group by p.owner_id, t.status`;
const progressOf = (anyAdmin: SQL, managers: SQL) =>
  sql`select p.id, p.name, p.owner_id, count(t.id)::int as total,
             count(t.id) filter (where t.status = 'done')::int as done
        from projects p left join tasks t on t.project_id = p.id
        where ${anyAdmin} or p.owner_id = any(${managers})
        group by p.id`;
const byRoleOf = (anyAdmin: SQL) =>
  sql`select role, count(*)::int as n from users where active and ${anyAdmin} group by role`;
const orgOf = (anyAdmin: SQL) =>
  sql`select status, count(*)::int as n from tasks where ${anyAdmin} group by status`;
/** Completed per day, per scope: a user's own tasks, a manager's team, the organisation for admins. */
const completedOf = (regular: SQL, managers: SQL, anyAdmin: SQL) => {
  const since = sql`((${today} - ${sql.raw(String(HISTORY_DAYS - 1))})::timestamp at time zone 'UTC')`;
  return sql`select 'user' as scope, assignee_id as key, (completed_at at time zone 'UTC')::date::text as day, count(*)::int as n
               from tasks where assignee_id = any(${regular})
                and completed_at >= ${since} group by 2, 3
             union all
             select 'manager', p.owner_id, (t.completed_at at time zone 'UTC')::date::text, count(*)::int
               from tasks t join projects p on p.id = t.project_id
              where p.owner_id = any(${managers}) and t.completed_at >= ${since} group by 2, 3
             union all
             select 'org', 0, (completed_at at time zone 'UTC')::date::text, count(*)::int
               from tasks where ${anyAdmin} and completed_at >= ${since} group by 2, 3`;
};

const ids = (list: Iterable<number>) => sql`${intArray(list)}::int[]`;
const jsonRows = (statement: SQL) => sql`(select coalesce(json_agg(r), '[]'::json) from (${statement}) r)`;

/**
 * Dashboards of the given active users (inactive or unknown ids are left out) in ONE statement,
 * whatever their number and roles: every row set is a JSON column of a single SELECT, each scoped
 * by role in SQL (the managers, the users, whether an admin is among them). One statement is one
 * consistent snapshot without a transaction, and one round trip to the database: a change batch
 * of the realtime leader costs this one statement beside its change-log read and cursor write
 * (docs/decisions/0024-one-statement-per-batch.md); GET /api/metrics for one user, the same.
 */
export async function computeDashboards(db: Db, userIds: readonly number[]): Promise<Map<number, Dashboard>> {
  if (userIds.length === 0) return new Map();
  const all = ids(userIds);
  // An array expression (not a subquery in parentheses, which `= any(…)` would read as rows of arrays).
  const withRole = (r: Role) =>
    sql`array(select id from users where id = any(${all}) and active and role = ${r})`;
  const anyAdmin = sql`exists (select 1 from users where id = any(${all}) and active and role = 'admin')`;
  const managers = withRole('manager');
  // Only active people get a document (and so a row set of their own).
  const active = sql`array(select id from users where id = any(${all}) and active)`;
  const [row] = await query<{ [K in keyof RowSets]: RowSets[K] }>(
    db,
    sql`select ${jsonRows(peopleOf(all))} as people, ${jsonRows(mineOf(active))} as mine,
               ${jsonRows(teamOf(managers))} as team,
               ${jsonRows(progressOf(anyAdmin, managers))} as progress,
               ${jsonRows(byRoleOf(anyAdmin))} as "byRole", ${jsonRows(orgOf(anyAdmin))} as org,
               ${jsonRows(completedOf(withRole('user'), managers, anyAdmin))} as completed`,
  );
  return row ? assemble(row) : new Map();
}

/** One user's dashboard: the same single statement. */
export async function computeDashboard(db: Db, userId: number): Promise<Dashboard | undefined> {
  return (await computeDashboards(db, [userId])).get(userId);
}

/** The documents from the row sets (people decide which rows go where). */
function assemble(sets: RowSets): Map<number, Dashboard> {
  const result = new Map<number, Dashboard>();
  const { people } = sets;
  if (people.length === 0) return result;
  const day = people[0]!.today;
  const admins = people.filter((p) => p.role === 'admin').map((p) => p.id);
  for (const p of people) {
    result.set(p.id, {
      role: p.role,
      my_tasks: zeroCounts(),
      my_overdue: 0,
      completed_by_day: emptyHistory(day),
      notifications: { unread: p.unread, latest: p.latest },
      ...(p.role === 'manager' ? { team_tasks: zeroCounts(), projects: {} } : {}),
      ...(p.role === 'admin'
        ? { org_tasks: zeroCounts(), projects: {}, users_by_role: { admin: 0, manager: 0, user: 0 } }
        : {}),
    });
  }
  for (const row of sets.mine) {
    const doc = result.get(row.assignee_id)!;
    doc.my_tasks[row.status] = row.n;
    doc.my_overdue += row.overdue;
  }
  for (const row of sets.team) {
    const doc = result.get(row.owner_id);
    if (doc?.team_tasks) doc.team_tasks[row.status] = row.n;
  }
  for (const row of sets.progress) {
    const entry = { name: row.name, done: row.done, total: row.total };
    const owner = result.get(row.owner_id);
    if (owner?.role === 'manager') owner.projects![row.id] = entry;
    for (const id of admins) result.get(id)!.projects![row.id] = entry;
  }
  for (const id of admins) {
    const doc = result.get(id)!;
    for (const row of sets.byRole) doc.users_by_role![row.role] = row.n;
    for (const row of sets.org) doc.org_tasks![row.status] = row.n;
  }
  for (const row of sets.completed) {
    const targets = row.scope === 'org' ? admins : [row.key];
    for (const id of targets) {
      const history = result.get(id)?.completed_by_day;
      if (history && row.day in history) history[row.day] = row.n;
    }
  }
  return result;
}

function emptyHistory(today: string): Record<string, number> {
  const end = Date.parse(`${today}T00:00:00Z`);
  const history: Record<string, number> = {};
  for (let i = HISTORY_DAYS - 1; i >= 0; i--) {
    history[new Date(end - i * 86_400_000).toISOString().slice(0, 10)] = 0;
  }
  return history;
}
