import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, query } from '../../src/db/database.js';
import { openDatabase } from '../../src/db/open.js';
import { users } from '../../src/db/schema/users.js';
import { seedOrganisation } from '../../src/db/seed/organisation.js';
import { hashPassword } from '../../src/domain/auth/passwords.js';
import {
  computeDashboard,
  computeDashboards,
  type Dashboard,
  HISTORY_DAYS,
} from '../../src/domain/metrics.js';

const STATUSES = ['todo', 'in_progress', 'blocked', 'done'] as const;

/** The dashboard document, recomputed the slow and obvious way from every row. */
async function bruteForce(database: Database, userId: number): Promise<Dashboard> {
  const { db } = database;
  const people = await query<{ id: number; role: 'admin' | 'manager' | 'user'; active: boolean }>(
    db,
    sql`select id, role, active from users`,
  );
  const projects = await query<{ id: number; name: string; owner_id: number }>(
    db,
    sql`select id, name, owner_id from projects`,
  );
  const tasks = await query<{
    project_id: number;
    status: string;
    assignee_id: number | null;
    due_date: string | null;
    completed_at: string | null;
  }>(
    db,
    sql`select project_id, status::text, assignee_id, due_date::text, (completed_at at time zone 'UTC')::date::text as completed_at from tasks`,
  );
  const today = new Date().toISOString().slice(0, 10);
  const me = people.find((p) => p.id === userId)!;
  const counts = (list: typeof tasks) =>
    Object.fromEntries(STATUSES.map((s) => [s, list.filter((t) => t.status === s).length]));
  const mine = tasks.filter((t) => t.assignee_id === userId);
  const owned = new Set(projects.filter((p) => p.owner_id === userId).map((p) => p.id));
  const team = tasks.filter((t) => owned.has(t.project_id));
  const scope = me.role === 'admin' ? tasks : me.role === 'manager' ? team : mine;
  const days: Record<string, number> = {};
  for (let i = HISTORY_DAYS - 1; i >= 0; i--) {
    const day = new Date(Date.parse(`${today}T00:00:00Z`) - i * 86_400_000).toISOString().slice(0, 10);
    days[day] = scope.filter((t) => t.completed_at === day).length;
  }
  const progress = (list: typeof projects) =>
    Object.fromEntries(
      list.map((p) => {
        const of = tasks.filter((t) => t.project_id === p.id);
        return [p.id, { name: p.name, done: of.filter((t) => t.status === 'done').length, total: of.length }];
      }),
    );
  const doc: Dashboard = {
    role: me.role,
    my_tasks: counts(mine) as Dashboard['my_tasks'],
    my_overdue: mine.filter((t) => t.due_date !== null && t.due_date < today && t.status !== 'done').length,
    completed_by_day: days,
  };
  if (me.role === 'manager') {
    doc.team_tasks = counts(team) as Dashboard['my_tasks'];
    doc.projects = progress(projects.filter((p) => owned.has(p.id)));
  }
  if (me.role === 'admin') {
    doc.projects = progress(projects);
    doc.org_tasks = counts(tasks) as Dashboard['my_tasks'];
    const active = people.filter((p) => p.active);
    doc.users_by_role = { admin: 0, manager: 0, user: 0 };
    for (const p of active) doc.users_by_role[p.role]++;
  }
  return doc;
}

describe.each(['pglite', 'pg'] as const)('dashboard documents on %s', (driver) => {
  let database: Database;
  let drop: (() => Promise<void>) | undefined;
  let ids: number[];
  beforeAll(async () => {
    if (driver === 'pg') {
      const { freshPgDatabase } = await import('../support/pg.js');
      const fresh = await freshPgDatabase('metrics');
      drop = fresh.drop;
      database = await openDatabase({ driver: 'pg', url: fresh.url });
    } else {
      database = await openDatabase({ driver: 'pglite', dataDir: undefined });
    }
    const hash = await hashPassword('a shared test password');
    await seedOrganisation(database.db, {
      managers: 12,
      users: 200,
      projects: 30,
      tasks: 3000,
      passwordHash: async () => hash,
    });
    await database.db.insert(users).values([
      { username: 'boss', role: 'admin', password_hash: hash },
      { username: 'former', role: 'user', password_hash: hash, active: false },
    ]);
    ids = (await database.db.select({ id: users.id }).from(users)).map((r) => r.id);
  });
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  it('issues the same number of statements for 3, 10 and 200+ users (roles mixed alike)', async () => {
    const cost = async (batch: number[]) => {
      const before = database.stats.statements;
      await computeDashboards(database.db, batch);
      return database.stats.statements - before;
    };
    const admin = ids[ids.length - 2]!;
    // Managers come first in the seed, then users: each batch holds an admin, managers and users.
    const three = await cost([ids[0]!, ids[15]!, admin]);
    const ten = await cost([...ids.slice(5, 14), admin]);
    const all = await cost(ids);
    expect(ids.length).toBeGreaterThan(200);
    expect(ten).toBe(three);
    expect(all).toBe(three);
    // Seven queries at most, plus BEGIN and COMMIT where the driver counts them (node-postgres does).
    expect(three).toBeLessThanOrEqual(9);
    // A batch without some role skips that role's statements: never more.
    expect(await cost([ids[20]!])).toBeLessThanOrEqual(three);
  });

  it('gives each user of a batch exactly their own document', async () => {
    const batch = await computeDashboards(database.db, ids);
    for (const id of [ids[0]!, ids[5]!, ids[20]!, ids[ids.length - 2]!]) {
      expect(batch.get(id)).toEqual(await computeDashboard(database.db, id));
    }
  });

  it('matches a brute-force count for an admin, a manager and a user, and leaves inactive users out', async () => {
    const [admin, inactive] = ids.slice(-2) as [number, number];
    const batch = await computeDashboards(database.db, [ids[0]!, ids[15]!, admin, inactive]);
    expect(batch.has(inactive)).toBe(false);
    for (const id of [ids[0]!, ids[15]!, admin]) {
      const doc = batch.get(id)!;
      expect(doc).toEqual(await bruteForce(database, id));
    }
    expect(batch.get(ids[0]!)!.role).toBe('manager');
    expect(batch.get(ids[15]!)!.role).toBe('user');
    expect(Object.values(batch.get(admin)!.completed_by_day).some((n) => n > 0)).toBe(true);
  });
});
