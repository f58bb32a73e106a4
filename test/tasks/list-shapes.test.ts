import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/auth/actor.ts';
import type { Db } from '../../src/db/database.ts';
import { isoOfInstant, listPagePrepared } from '../../src/db/list.ts';
import { tasks } from '../../src/db/schema/tasks.ts';
import { listTasks, type TaskQuery, toTask } from '../../src/tasks/rules.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { makeWorld, type World } from '../support/world.ts';

/**
 * GET /api/tasks runs a statement prepared once per shape (the filters present, the order) with
 * its own row mapping (src/db/list.ts `listPagePrepared`). It must answer exactly what the list
 * built on every call answers (the path pages with extra columns still take), for every role,
 * filter, order and page, on every driver.
 */
describe.each(['pglite', 'pg', 'neon'] as const)('prepared task lists on %s', (driver) => {
  let ctx: TestApp;
  let w: World;
  const actor = (p: { id: number; username: string }, role: Actor['role']): Actor => ({
    id: p.id,
    username: p.username,
    role,
    sessionId: '00000000-0000-0000-0000-000000000000',
  });

  beforeAll(async () => {
    ctx = await startTestApp(driver);
    w = await makeWorld(ctx);
    const { db } = ctx.database;
    // Every status and priority, due dates past, today and future, unassigned tasks, a search
    // hit in the title and one in the description, one with LIKE's wildcards in its title.
    const statuses = ['todo', 'in_progress', 'blocked', 'done'] as const;
    const priorities = ['low', 'medium', 'high', 'urgent'] as const;
    const rows = Array.from({ length: 36 }, (_, i) => ({
      project_id: i % 3 === 0 ? w.projectB.id : w.projectA.id,
      title: i === 7 ? 'Fix 100%_of it' : `Task ${i}${i % 5 === 0 ? ' needle' : ''}`,
      description: i % 7 === 0 ? 'a NEEDLE in the description' : '',
      status: statuses[i % 4]!,
      priority: priorities[(i >> 2) % 4]!,
      assignee_id: i % 4 === 3 ? null : i % 2 === 0 ? w.userA.id : w.userB.id,
      due_date: i % 3 === 0 ? null : i % 3 === 1 ? '2020-01-01' : '2999-12-31',
    }));
    await db.insert(tasks).values(rows);
    // Distinct timestamps, some with microseconds, one completed_at set by the trigger.
    await db.execute(
      sql`update tasks set created_at = now() - (id * interval '1 minute 0.123456 second'),
          updated_at = now() - (id * interval '7 second')`,
    );
  });
  afterAll(() => ctx?.close());

  const queries: TaskQuery[] = [
    {},
    { limit: 5 },
    { limit: 5, offset: 5 },
    { offset: 1000 },
    { sort: 'title' },
    { sort: '-due_date', limit: 7 },
    { sort: 'priority', offset: 3 },
    { sort: '-updated_at' },
    { sort: 'nonsense' },
    { status: 'done' },
    { priority: 'urgent', status: 'todo' },
    { q: 'needle' },
    { q: '100%_' },
    { q: 'nothing matches this' },
    { overdue: true },
    { overdue: false, sort: 'due_date' },
    { assignee_id: null },
    { assignee_id: 0 },
    { project_id: 0 },
    { owner_id: 1_000_000 },
  ];

  it('answers what the list built on each call answers, for every role, filter, order and page', async () => {
    const { db } = ctx.database;
    const people = [
      actor(w.admin, 'admin'),
      actor(w.managerA, 'manager'),
      actor(w.managerB, 'manager'),
      actor(w.userA, 'user'),
      actor(w.userB, 'user'),
    ];
    const more: TaskQuery[] = [
      { project_id: w.projectA.id },
      { project_id: w.projectB.id, status: 'blocked' },
      { assignee_id: w.userA.id, sort: '-priority' },
      { owner_id: w.managerA.id, overdue: true },
      { owner_id: w.managerB.id, q: 'NEEDLE', sort: 'id' },
    ];
    let compared = 0;
    for (const who of people) {
      for (const query of [...queries, ...more]) {
        for (const since of [false, true]) {
          // Twice: the first call builds and prepares the shape, the second reuses it.
          for (let round = 0; round < 2; round++) {
            const fast = await listTasks(db, who, query, { since });
            // `extra` (even empty) takes the path that builds the statement on every call.
            const built = await listTasks(db, who, query, { since, extra: {} });
            expect(fast, `${who.role} ${who.id} ${JSON.stringify(query)} since=${since}`).toEqual(built);
            compared += fast.items.length;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(500); // the pages were not all empty
  });

  it('keeps the same JSON: ISO instants in UTC to the millisecond, days as YYYY-MM-DD, null for none', async () => {
    const { db } = ctx.database;
    const page = await listTasks(db, actor(w.admin, 'admin'), { limit: 100 });
    const [raw] = await db.select().from(tasks).where(eq(tasks.id, page.items[3]!.id));
    expect(page.items[3]).toEqual(toTask(raw!));
    for (const t of page.items) {
      expect(t.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(t.due_date === null || /^\d{4}-\d\d-\d\d$/.test(t.due_date)).toBe(true);
    }
    expect(page.items.some((t) => t.completed_at !== null)).toBe(true);
    expect(page.items.some((t) => t.assignee_id === null)).toBe(true);
  });

  it('builds a shape once, and past 64 shapes builds each further one on every call (bounded)', async () => {
    // Shapes are kept per database handle: a transaction is a fresh handle with none kept yet.
    await ctx.database.db.transaction(async (tx) => shapes(tx as unknown as Db));
  });

  async function shapes(db: Db) {
    let builds = 0;
    const shape = (key: string) => ({
      key,
      build: () => {
        builds++;
        return { where: eq(tasks.assignee_id, sql.placeholder('uid')), order: [sql`${tasks.id} asc`] };
      },
      values: { uid: w.userA.id },
    });
    const expected = await listTasks(db, actor(w.admin, 'admin'), {
      assignee_id: w.userA.id,
      sort: 'id',
      limit: 10,
    });
    const key = `test-shape-${driver}`;
    for (let i = 0; i < 3; i++) {
      const page = await listPagePrepared(db, tasks, shape(key), { limit: 10 }, (row) => row);
      expect(page.items).toEqual(expected.items);
      expect(page.total).toBe(expected.total);
    }
    expect(builds).toBe(1);
    // Fill the cache past its bound: every further new shape is still answered right.
    for (let i = 0; i < 80; i++) {
      const page = await listPagePrepared(db, tasks, shape(`${key}-${i}`), { limit: 10 }, (row) => row);
      expect(page.items).toEqual(expected.items);
    }
    builds = 0;
    await listPagePrepared(db, tasks, shape(`${key}-79`), { limit: 10 }, (row) => row);
    await listPagePrepared(db, tasks, shape(`${key}-79`), { limit: 10 }, (row) => row);
    expect(builds).toBe(2);
    builds = 0;
    await listPagePrepared(db, tasks, shape(key), { limit: 10 }, (row) => row);
    expect(builds).toBe(0);
  }
});

describe('isoOfInstant', () => {
  it('gives what new Date(text).toISOString() gives for PostgreSQL instants, UTC or not', () => {
    const texts = [
      '2026-12-04 17:37:00+00',
      '2026-12-04 17:37:00.1+00',
      '2026-12-04 17:37:00.12+00',
      '2026-12-04 17:37:00.123+00',
      '2026-12-04 17:37:00.1234+00',
      '2026-12-04 17:37:00.12345+00',
      '2026-12-04 17:37:00.999999+00',
      '0001-06-01 00:00:00+00',
      '0099-06-01 00:00:00.5+00',
      '0999-06-01 00:00:00.5+00',
      '1000-01-01 00:00:00.5+00',
      '1899-12-31 23:59:59.999+00',
      '2026-12-04 17:37:00.123456+05:30',
      '2026-12-04 17:37:00.5-08',
      '2026-12-04 17:37:00+01',
      '12026-12-04 17:37:00+00',
    ];
    for (const text of texts) expect(isoOfInstant(text), text).toBe(new Date(text).toISOString());
    const date = new Date('2026-12-04T17:37:00.123Z');
    expect(isoOfInstant(date)).toBe('2026-12-04T17:37:00.123Z');
    // Every millisecond and microsecond digit count, against the Date path.
    for (let i = 0; i < 2000; i++) {
      const micros = Math.floor(Math.random() * 1e6);
      const digits = String(micros)
        .padStart(6, '0')
        .slice(0, 1 + (i % 6));
      const text = `20${String(10 + (i % 89))}-0${1 + (i % 9)}-1${i % 10} 0${i % 10}:${10 + (i % 50)}:0${i % 10}.${digits}+00`;
      expect(isoOfInstant(text), text).toBe(new Date(text).toISOString());
    }
  });
});
