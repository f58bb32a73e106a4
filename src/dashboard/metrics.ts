import { sql } from 'drizzle-orm';
import { type Db, query } from '../db/database.js';
import { type Role, TASK_STATUSES, type TaskStatus } from '../db/schema/enums.js';
import type { Dashboard, DocNotification, StatusCounts } from './document.js';

/**
 * The dashboard document (docs/contract.md §5; its one declaration is dashboard-document.ts).
 * `computeDashboards` builds it for any number of users in one SQL statement, whatever
 * the batch size: the realtime leader calls it with every user a change touches.
 */
export type { Dashboard, DocNotification, NotificationsSection, StatusCounts } from './document.js';

/** How many notifications the document (and the bell) holds; the rest are in GET /api/notifications. */
export const NOTIFICATIONS_IN_DOCUMENT = 20;

export const HISTORY_DAYS = 14;

const zeroCounts = (): StatusCounts => Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as StatusCounts;

/** One array parameter, whatever the length, so the statement text never changes. */
const intArray = (ids: Iterable<number>) => `{${[...ids].map((id) => Math.trunc(id)).join(',')}}`;

const today = sql`(now() at time zone 'UTC')::date`;

export async function computeDashboard(db: Db, userId: number): Promise<Dashboard | undefined> {
  return (await computeDashboards(db, [userId])).get(userId);
}

/**
 * Dashboards of the given active users (inactive or unknown ids are left out), in one SQL
 * statement whatever the number of users (one statement sees one snapshot: no transaction
 * needed). Each CTE is one part of the documents, grouped by user; the parts come back as
 * JSON arrays of rows and are assembled here. See docs/decisions/0021-storms-one-statement-per-batch.md.
 */
export async function computeDashboards(db: Db, userIds: readonly number[]): Promise<Map<number, Dashboard>> {
  const result = new Map<number, Dashboard>();
  if (userIds.length === 0) return result;
  const since = sql`((${today} - ${sql.raw(String(HISTORY_DAYS - 1))})::timestamp at time zone 'UTC')`;
  const rowsOf = (cte: string) =>
    sql.raw(`(select coalesce(jsonb_agg(to_jsonb(x)), '[]'::jsonb) from ${cte} x)`);
  const [parts] = await query<{
    today: string;
    people: Person[];
    mine: { assignee_id: number; status: TaskStatus; n: number; overdue: number }[];
    team: { owner_id: number; status: TaskStatus; n: number }[];
    progress: { id: number; name: string; owner_id: number; done: number; total: number }[];
    by_role: { role: Role; n: number }[];
    org: { status: TaskStatus; n: number }[];
    completed: { scope: 'user' | 'manager' | 'org'; key: number; day: string; n: number }[];
  }>(
    db,
    // The notifications ride along with the people (indexed per user; no extra round trip).
    sql`with people as (
          select u.id, u.role,
                 (select count(*)::int from notifications n where n.user_id = u.id and n.read_at is null) as unread,
                 (select coalesce(jsonb_object_agg(l.id::text, jsonb_strip_nulls(jsonb_build_object(
                           'kind', l.kind, 'message', l.message, 'task_id', l.task_id,
                           'at', to_char(l.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                           'read', l.read_at is not null))), '{}'::jsonb)
                    from (select * from notifications n where n.user_id = u.id
                          order by n.id desc limit ${sql.raw(String(NOTIFICATIONS_IN_DOCUMENT))}) l) as latest
            from users u where u.active and u.id = any(${intArray(userIds)}::int[])),
        managers as (select id from people where role = 'manager'),
        admin as (select exists (select 1 from people where role = 'admin') as present),
        mine as (
          select assignee_id, status, count(*)::int as n,
                 count(*) filter (where due_date < ${today} and status <> 'done')::int as overdue
            from tasks where assignee_id in (select id from people) group by assignee_id, status),
        team as (
          select p.owner_id, t.status, count(*)::int as n from tasks t join projects p on p.id = t.project_id
           where p.owner_id in (select id from managers) group by p.owner_id, t.status),
        progress as (
          select p.id, p.name, p.owner_id, count(t.id)::int as total,
                 count(t.id) filter (where t.status = 'done')::int as done
            from projects p left join tasks t on t.project_id = p.id
           where (select present from admin) or p.owner_id in (select id from managers)
           group by p.id),
        by_role as (
          select role, count(*)::int as n from users where active and (select present from admin) group by role),
        org as (select status, count(*)::int as n from tasks where (select present from admin) group by status),
        completed as (
          select 'user' as scope, assignee_id as key, (completed_at at time zone 'UTC')::date::text as day, count(*)::int as n
            from tasks where assignee_id in (select id from people where role = 'user')
             and completed_at >= ${since} group by 2, 3
          union all
          select 'manager', p.owner_id, (t.completed_at at time zone 'UTC')::date::text, count(*)::int
            from tasks t join projects p on p.id = t.project_id
           where p.owner_id in (select id from managers) and t.completed_at >= ${since} group by 2, 3
          union all
          select 'org', 0, (completed_at at time zone 'UTC')::date::text, count(*)::int
            from tasks where (select present from admin) and completed_at >= ${since} group by 2, 3)
        select ${today}::text as today, ${rowsOf('people')} as people, ${rowsOf('mine')} as mine,
               ${rowsOf('team')} as team, ${rowsOf('progress')} as progress, ${rowsOf('by_role')} as by_role,
               ${rowsOf('org')} as org, ${rowsOf('completed')} as completed`,
  );
  const { today: day, people } = parts!;
  if (people.length === 0) return result;
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
  for (const row of parts!.mine) {
    const doc = result.get(row.assignee_id)!;
    doc.my_tasks[row.status] = row.n;
    doc.my_overdue += row.overdue;
  }
  for (const row of parts!.team) result.get(row.owner_id)!.team_tasks![row.status] = row.n;
  for (const row of parts!.progress) {
    const entry = { name: row.name, done: row.done, total: row.total };
    const owner = result.get(row.owner_id);
    if (owner?.role === 'manager') owner.projects![row.id] = entry;
    for (const id of admins) result.get(id)!.projects![row.id] = entry;
  }
  for (const id of admins) {
    const doc = result.get(id)!;
    for (const row of parts!.by_role) doc.users_by_role![row.role] = row.n;
    for (const row of parts!.org) doc.org_tasks![row.status] = row.n;
  }
  // Completed per day, per scope: a user's own tasks, a manager's team, the organisation for admins.
  for (const row of parts!.completed) {
    const targets = row.scope === 'org' ? admins : [row.key];
    for (const id of targets) {
      const history = result.get(id)?.completed_by_day;
      if (history && row.day in history) history[row.day] = row.n;
    }
  }
  return result;
}

interface Person {
  id: number;
  role: Role;
  unread: number;
  latest: Record<string, DocNotification>;
}

function emptyHistory(today: string): Record<string, number> {
  const end = Date.parse(`${today}T00:00:00Z`);
  const history: Record<string, number> = {};
  for (let i = HISTORY_DAYS - 1; i >= 0; i--) {
    history[new Date(end - i * 86_400_000).toISOString().slice(0, 10)] = 0;
  }
  return history;
}
