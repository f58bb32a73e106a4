import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../src/db/database.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { makeWorld, type World } from '../support/world.js';

interface Entry {
  id: number;
  table_name: string;
  op: string;
  row_id: number;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  affected_user_ids: number[];
  actor_id: number | null;
}

/** Every write lands in change_log, in its transaction: from the portal with its actor, from outside without. */
describe.each(['pglite', 'pg'] as const)('change capture on %s', (driver) => {
  let ctx: TestApp;
  let w: World;
  /** Plain SQL "from outside the portal": its own connection for pg, the raw connection for PGlite. */
  let outside: (text: string) => Promise<void>;
  let closeOutside: () => Promise<void> = async () => {};
  beforeAll(async () => {
    ctx = await startTestApp(driver);
    w = await makeWorld(ctx);
    if (driver === 'pg') {
      const c = new pg.Client({ connectionString: ctx.url });
      await c.connect();
      outside = async (text) => void (await c.query(text));
      closeOutside = () => c.end();
    } else {
      outside = async (text) => void (await ctx.database.db.execute(sql.raw(text)));
    }
  });
  afterAll(async () => {
    await closeOutside();
    await ctx?.close();
  });

  const since = async (id: number) =>
    query<Entry>(ctx.database.db, sql`select * from change_log where id > ${id} order by id`);
  const last = async () =>
    Number(
      (
        await query<{ id: number }>(
          ctx.database.db,
          sql`select coalesce(max(id), 0)::int as id from change_log`,
        )
      )[0]!.id,
    );

  it('logs a plain SQL write with its affected users and no actor', async () => {
    const mark = await last();
    // Reassign taskA from ursula to ulrich and move it into project B.
    await outside(
      `update tasks set assignee_id = ${w.userB.id}, project_id = ${w.projectB.id} where id = ${w.taskA.id}`,
    );
    const [entry, ...rest] = await since(mark);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      table_name: 'tasks',
      op: 'update',
      row_id: w.taskA.id,
      actor_id: null,
      before: { assignee_id: w.userA.id, project_id: w.projectA.id },
      after: { assignee_id: w.userB.id, project_id: w.projectB.id },
    });
    expect(entry!.affected_user_ids).toEqual(
      [w.userA.id, w.userB.id, w.managerA.id, w.managerB.id].sort((a, b) => a - b),
    );
    await outside(
      `update tasks set assignee_id = ${w.userA.id}, project_id = ${w.projectA.id} where id = ${w.taskA.id}`,
    );
  });

  it('logs project owner changes for both owners, user changes for the user, and skips no-op updates', async () => {
    const mark = await last();
    await outside(`update projects set owner_id = ${w.managerB.id} where id = ${w.projectA.id}`);
    await outside(`update projects set owner_id = ${w.managerA.id} where id = ${w.projectA.id}`);
    await outside(`update users set display_name = 'Ursula U.' where id = ${w.userA.id}`);
    await outside(`update tasks set title = title where id = ${w.taskA.id}`);
    const entries = await since(mark);
    expect(entries).toHaveLength(3);
    expect(entries[0]!.affected_user_ids).toEqual([w.managerA.id, w.managerB.id].sort((a, b) => a - b));
    expect(entries[2]).toMatchObject({
      table_name: 'users',
      row_id: w.userA.id,
      affected_user_ids: [w.userA.id],
    });
    expect(entries[2]!.after).toEqual({ display_name: 'Ursula U.' });
  });

  it('logs every API write with its actor, changed columns only, and never a password hash', async () => {
    const mark = await last();
    const user = await w.admin.api.post('/api/users', {
      username: 'logged',
      password: 'a long password here',
      role: 'user',
    });
    await w.admin.api.patch(`/api/users/${user.body.id}`, {
      password: 'another long password',
      display_name: 'L',
    });
    const project = await w.managerA.api.post('/api/projects', { name: 'Logged project' });
    const task = await w.managerA.api.post('/api/tasks', {
      project_id: project.body.id,
      title: 'Logged task',
      assignee_id: user.body.id,
    });
    await w.userA.api.patch(`/api/tasks/${w.taskA.id}`, { status: 'blocked' });
    await w.managerA.api.delete(`/api/tasks/${task.body.id}`);
    const entries = await since(mark);
    expect(entries.map((e) => [e.table_name, e.op, e.actor_id])).toEqual([
      ['users', 'insert', w.admin.id],
      ['users', 'update', w.admin.id],
      ['projects', 'insert', w.managerA.id],
      ['tasks', 'insert', w.managerA.id],
      ['tasks', 'update', w.userA.id],
      ['tasks', 'delete', w.managerA.id],
    ]);
    expect(entries[1]!.after).toEqual({ display_name: 'L', password_changed: true });
    expect(entries[4]!.before).toEqual({ status: 'todo' });
    expect(entries[4]!.after).toEqual({ status: 'blocked' });
    expect(JSON.stringify(entries)).not.toContain('password_hash');
    expect(JSON.stringify(entries)).not.toContain('$argon2');
  });

  it('logs the tasks a project delete cascades to, and the tasks a user delete unassigns', async () => {
    const project = await w.managerB.api.post('/api/projects', { name: 'Doomed' });
    const doomed = await w.managerB.api.post('/api/tasks', {
      project_id: project.body.id,
      title: 'Doomed task',
    });
    const user = await w.admin.api.post('/api/users', {
      username: 'goner',
      password: 'a long password here',
      role: 'user',
    });
    const kept = await w.managerB.api.post('/api/tasks', {
      project_id: w.projectB.id,
      title: 'Kept',
      assignee_id: user.body.id,
    });
    const mark = await last();
    await w.managerB.api.delete(`/api/projects/${project.body.id}`);
    await w.admin.api.delete(`/api/users/${user.body.id}`);
    const entries = await since(mark);
    const rows = entries.map((e) => [e.table_name, e.op, e.row_id, e.actor_id]);
    expect(rows).toContainEqual(['tasks', 'delete', doomed.body.id, w.managerB.id]);
    expect(rows).toContainEqual(['projects', 'delete', project.body.id, w.managerB.id]);
    expect(rows).toContainEqual(['tasks', 'update', kept.body.id, w.admin.id]);
    expect(rows).toContainEqual(['users', 'delete', user.body.id, w.admin.id]);
    const unassigned = entries.find((e) => e.row_id === kept.body.id)!;
    expect(unassigned.after).toEqual({ assignee_id: null });
    expect(unassigned.affected_user_ids).toContain(user.body.id);
  });

  // PostgreSQL only: a listener on another connection (PGlite has one connection).
  const onPg = driver === 'pg' ? it : () => {};
  onPg('a bulk update of 2,000 rows logs 2,000 changes and wakes a listener once', async () => {
    const listener = new pg.Client({ connectionString: ctx.url });
    await listener.connect();
    const notes: string[] = [];
    listener.on('notification', (n) => notes.push(n.channel));
    await listener.query('listen portal_changes');
    await outside(
      `insert into tasks (project_id, title) select ${w.projectB.id}, 'bulk ' || g from generate_series(1, 2000) g`,
    );
    await new Promise((r) => setTimeout(r, 300));
    notes.length = 0;
    const mark = await last();
    await outside(`begin; update tasks set priority = 'high' where title like 'bulk %'; commit`);
    await new Promise((r) => setTimeout(r, 300));
    expect((await since(mark)).length).toBe(2000);
    expect(notes).toEqual(['portal_changes']);
    await listener.end();
  });
});
