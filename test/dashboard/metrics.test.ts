import { inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.ts';
import { computeDashboard, computeDashboards, type Dashboard } from '../../src/dashboard/metrics.ts';
import type { Database } from '../../src/db/database.ts';
import { openDatabase } from '../../src/db/open.ts';
import type { Role } from '../../src/db/schema/enums.ts';
import { projects } from '../../src/db/schema/projects.ts';
import { tasks } from '../../src/db/schema/tasks.ts';
import { users } from '../../src/db/schema/users.ts';
import { seedOrganisation } from '../../src/db/seed/organisation.ts';
import { freshPgDatabase } from '../support/pg.ts';

const STATUSES = ['todo', 'in_progress', 'blocked', 'done'] as const;
const DAY = 86_400_000;

/** The dashboard document recomputed the slow, obvious way: every row into JavaScript, then count. */
async function bruteForce(database: Database, userId: number): Promise<Dashboard | undefined> {
  const { db } = database;
  const people = await db.select().from(users);
  const allProjects = await db.select().from(projects);
  const allTasks = await db.select().from(tasks);
  const today = new Date().toISOString().slice(0, 10);
  const me = people.find((p) => p.id === userId);
  if (!me?.active) return undefined;

  const counts = (list: typeof allTasks) =>
    Object.fromEntries(
      STATUSES.map((s) => [s, list.filter((t) => t.status === s).length]),
    ) as Dashboard['my_tasks'];
  const progress = (list: typeof allProjects) =>
    Object.fromEntries(
      list.map((p) => {
        const of = allTasks.filter((t) => t.project_id === p.id);
        return [
          String(p.id),
          { name: p.name, done: of.filter((t) => t.status === 'done').length, total: of.length },
        ];
      }),
    );
  const history = (list: typeof allTasks) => {
    const days: Record<string, number> = {};
    for (let i = 13; i >= 0; i--) {
      const day = new Date(Date.parse(`${today}T00:00:00Z`) - i * DAY).toISOString().slice(0, 10);
      days[day] = list.filter((t) => t.completed_at?.toISOString().slice(0, 10) === day).length;
    }
    return days;
  };

  const mine = allTasks.filter((t) => t.assignee_id === userId);
  const owned = allProjects.filter((p) => p.owner_id === userId);
  const team = allTasks.filter((t) => owned.some((p) => p.id === t.project_id));
  const doc: Dashboard = {
    role: me.role,
    my_tasks: counts(mine),
    my_overdue: mine.filter((t) => t.due_date !== null && t.due_date < today && t.status !== 'done').length,
    completed_by_day: history(me.role === 'admin' ? allTasks : me.role === 'manager' ? team : mine),
    // The seed writes as nobody (no portal actor): it notifies no one.
    notifications: { unread: 0, latest: {} },
  };
  if (me.role === 'manager') {
    doc.team_tasks = counts(team);
    doc.projects = progress(owned);
  }
  if (me.role === 'admin') {
    doc.projects = progress(allProjects);
    doc.org_tasks = counts(allTasks);
    doc.users_by_role = { admin: 0, manager: 0, user: 0 };
    for (const p of people) if (p.active) doc.users_by_role[p.role]++;
  }
  return doc;
}

describe.each(['pglite', 'pg'] as const)('dashboard documents on %s', (driver) => {
  let database: Database;
  let drop: (() => Promise<void>) | undefined;
  const byRole: Record<Role, number[]> = { admin: [], manager: [], user: [] };
  let inactive: number[];

  beforeAll(async () => {
    if (driver === 'pg') {
      const fresh = await freshPgDatabase('metrics');
      drop = fresh.drop;
      database = await openDatabase({ driver: 'pg', url: fresh.url });
    } else {
      database = await openDatabase({ driver: 'pglite', dataDir: undefined });
    }
    // One hash for everyone: hashing 650 passwords would take minutes and prove nothing here.
    const hash = await hashPassword('a shared test password');
    await seedOrganisation(database.db, {
      managers: 205,
      users: 245,
      projects: 250,
      tasks: 3000,
      passwordHash: async () => hash,
    });
    await database.db.insert(users).values(
      Array.from({ length: 205 }, (_, i) => ({
        username: `boss${i}`,
        role: 'admin' as const,
        password_hash: hash,
      })),
    );
    const everyone = await database.db
      .select({ id: users.id, role: users.role })
      .from(users)
      .orderBy(users.id);
    for (const u of everyone) byRole[u.role].push(u.id);
    // The last of each role leaves the organisation (a manager keeps owning projects).
    inactive = [byRole.admin.pop()!, byRole.manager.pop()!, byRole.user.pop()!];
    await database.db.update(users).set({ active: false }).where(inArray(users.id, inactive));
  }, 120_000);
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  const cost = async (batch: number[]) => {
    const before = database.stats.statements;
    const result = await computeDashboards(database.db, batch);
    expect(result.size).toBe(batch.length);
    return database.stats.statements - before;
  };

  it.each(['user', 'manager', 'admin'] as const)(
    'a batch of %s dashboards costs the same statements for 1, 10 and 200 users',
    async (role) => {
      const ids = byRole[role];
      expect(ids.length).toBeGreaterThanOrEqual(200);
      const one = await cost(ids.slice(0, 1));
      expect(await cost(ids.slice(0, 10))).toBe(one);
      expect(await cost(ids.slice(0, 200))).toBe(one);
    },
  );

  it('a mixed batch costs the same statements for 3, 10 and 200 users: one', async () => {
    const roles: Role[] = ['user', 'manager', 'admin'];
    const mixed = (n: number) =>
      Array.from({ length: n }, (_, i) => byRole[roles[i % 3]!][Math.floor(i / 3)]!);
    const three = await cost(mixed(3));
    expect(await cost(mixed(10))).toBe(three);
    expect(await cost(mixed(200))).toBe(three);
    expect(await cost([...byRole.admin, ...byRole.manager, ...byRole.user])).toBe(three);
    // One statement (it sees one snapshot by itself: no BEGIN and COMMIT either).
    expect(three).toBe(1);
  });

  it('gives every user of a batch exactly the document they get alone', async () => {
    // Admins see the whole organisation (the costly document): a few of them are enough.
    const batch = [
      ...byRole.user.slice(0, 100),
      ...byRole.manager.slice(0, 90),
      ...byRole.admin.slice(0, 10),
    ];
    const together = await computeDashboards(database.db, batch);
    expect(together.size).toBe(200);
    for (const id of batch) {
      const alone = await computeDashboard(database.db, id);
      expect(alone).toBeDefined();
      expect(together.get(id)).toEqual(alone);
    }
  }, 60_000);

  it('matches a brute-force count for an admin, a manager and a user', async () => {
    const everyone = await computeDashboards(database.db, [...byRole.user, ...byRole.manager]);
    // Pick people whose numbers are not all zero, so a wrong count cannot hide behind a zero.
    const user = byRole.user.find((id) => {
      const d = everyone.get(id)!;
      return d.my_overdue > 0 && Object.values(d.completed_by_day).some((n) => n > 0);
    });
    const manager = byRole.manager.find((id) => {
      const d = everyone.get(id)!;
      return d.team_tasks!.done > 0 && d.my_overdue > 0 && Object.keys(d.projects!).length > 1;
    });
    expect(user).toBeDefined();
    expect(manager).toBeDefined();
    const admin = byRole.admin[0]!;
    const batch = await computeDashboards(database.db, [user!, manager!, admin]);
    for (const id of [user!, manager!, admin]) {
      expect(batch.get(id)).toEqual(await bruteForce(database, id));
    }
    const adminDoc = batch.get(admin)!;
    expect(adminDoc.role).toBe('admin');
    expect(Object.keys(adminDoc.projects!)).toHaveLength(250);
    expect(Object.values(adminDoc.org_tasks!).reduce((a, b) => a + b, 0)).toBe(3000);
    expect(Object.keys(adminDoc.completed_by_day)).toHaveLength(14);
    expect(Object.keys(adminDoc.completed_by_day).at(-1)).toBe(new Date().toISOString().slice(0, 10));
  });

  it('leaves inactive users out: no document of their own, not counted by role', async () => {
    const batch = await computeDashboards(database.db, [...inactive, byRole.admin[0]!, 999_999]);
    expect([...batch.keys()]).toEqual([byRole.admin[0]!]);
    for (const id of inactive) expect(await computeDashboard(database.db, id)).toBeUndefined();
    expect(batch.get(byRole.admin[0]!)!.users_by_role).toEqual({
      admin: byRole.admin.length,
      manager: byRole.manager.length,
      user: byRole.user.length,
    });

    // Deactivating one more user takes them out at once; reactivating brings them back.
    const leaving = byRole.user[0]!;
    await database.db
      .update(users)
      .set({ active: false })
      .where(inArray(users.id, [leaving]));
    const after = await computeDashboards(database.db, [leaving, byRole.admin[0]!]);
    expect(after.has(leaving)).toBe(false);
    expect(after.get(byRole.admin[0]!)!.users_by_role!.user).toBe(byRole.user.length - 1);
    await database.db
      .update(users)
      .set({ active: true })
      .where(inArray(users.id, [leaving]));
    expect(await computeDashboard(database.db, leaving)).toBeDefined();
  });
});
