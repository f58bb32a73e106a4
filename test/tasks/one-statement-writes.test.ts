import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../src/db/database.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import type { Reply } from '../support/client.ts';
import { makeWorld, type World } from '../support/world.ts';

/**
 * A task write is one statement after the sign-in check (decision 0027): what an instance far
 * from its database waits for. Refusals still say which rule refused, and a stale If-Match never
 * gets through, even when two writers race with the same version.
 */
describe.each(['pglite', 'pg'] as const)('one-statement task writes on %s', (driver) => {
  let ctx: TestApp;
  let w: World;
  beforeAll(async () => {
    // The counts below include the sign-in check: no sign-in cache, as with PostgreSQL alone (with
    // the cache a cached sign-in costs no statement, decision 0029).
    ctx = await startTestApp(driver, { signInCache: false });
    w = await makeWorld(ctx);
  });
  afterAll(() => ctx?.close());

  /** The reply, and how many statements the database ran for it (the sign-in check included). */
  const counted = async <T>(request: () => Promise<T>) => {
    const before = ctx.database.stats.statements;
    const reply = await request();
    return { reply, statements: ctx.database.stats.statements - before };
  };

  // What JSON escapes, what it does not, and characters outside the BMP: the ETag the database
  // computes inside the write must be the one the API handed out, byte for byte.
  const awkward = {
    title: 'Quote " back\\slash \u0001 tab\t del\u007f line\u2028sep é 🦊 </script>',
    description: 'Two\nlines, "quoted", 100% _done_ \\n',
    priority: 'urgent',
    due_date: '2027-02-28',
  };

  it('POST, PATCH with If-Match and DELETE with If-Match: two statements each, the sign-in check and the write', async () => {
    const created = await counted(() =>
      w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, assignee_id: w.userA.id, ...awkward }),
    );
    expect(created.reply.status, created.reply.text).toBe(201);
    expect(created.reply.body).toMatchObject({ ...awkward, assignee_id: w.userA.id, status: 'todo' });
    expect(created.statements).toBe(2);
    const path = `/api/tasks/${created.reply.body.id}`;

    let etag = (await w.managerA.api.get(path)).headers.get('etag')!;
    for (const patch of [{ title: `${awkward.title}!` }, { status: 'done' }, { status: 'in_progress' }]) {
      const patched = await counted(() => w.managerA.api.patch(path, patch, { 'if-match': etag }));
      expect(patched.reply.status, patched.reply.text).toBe(200);
      expect(patched.reply.body).toMatchObject(patch);
      expect(patched.statements).toBe(2);
      expect(patched.reply.headers.get('etag')).toBe((await w.managerA.api.get(path)).headers.get('etag'));
      etag = patched.reply.headers.get('etag')!;
    }
    // The assignee moves it along with the version they read.
    const byAssignee = await counted(() =>
      w.userA.api.patch(path, { status: 'blocked' }, { 'if-match': etag }),
    );
    expect(byAssignee.reply.status, byAssignee.reply.text).toBe(200);
    expect(byAssignee.statements).toBe(2);

    const deleted = await counted(() =>
      w.managerA.api.delete(path, { 'if-match': byAssignee.reply.headers.get('etag')! }),
    );
    expect(deleted.reply.status).toBe(204);
    expect(deleted.statements).toBe(2);
    expect(await w.taskExists(created.reply.body.id)).toBe(false);
  });

  it('a refused write changes nothing and says why: 404, 403, 412 with the current task, 422', async () => {
    const task = (await w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'Guarded' }))
      .body;
    const path = `/api/tasks/${task.id}`;
    const etag = (await w.managerA.api.get(path)).headers.get('etag')!;

    expect((await w.managerB.api.patch(path, { title: 'x' }, { 'if-match': etag })).status).toBe(404);
    expect((await w.managerB.api.delete(path, { 'if-match': etag })).status).toBe(404);
    expect((await w.managerB.api.post('/api/tasks', { project_id: w.projectA.id, title: 'x' })).status).toBe(
      404,
    );
    // A user sees the project of a task assigned to them, and may not add tasks to it.
    expect((await w.userA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'x' })).status).toBe(
      403,
    );
    expect((await w.userA.api.post('/api/tasks', { project_id: w.projectB.id, title: 'x' })).status).toBe(
      404,
    );
    // Managers see tasks assigned to them in others' projects, and may only move them along.
    const assigned = (
      await w.managerB.api.post('/api/tasks', {
        project_id: w.projectB.id,
        title: 'For Mara',
        assignee_id: w.managerA.id,
      })
    ).body;
    const theirs = `/api/tasks/${assigned.id}`;
    expect((await w.managerA.api.patch(theirs, { title: 'Mine now' })).status).toBe(403);
    expect((await w.managerA.api.delete(theirs)).status).toBe(403);
    expect((await w.managerA.api.patch(theirs, { status: 'done' })).status).toBe(200);
    expect((await w.managerA.api.patch(path, { project_id: w.projectB.id })).status).toBe(404);
    expect((await w.admin.api.patch(path, { project_id: 2_000_000 })).status).toBe(404);

    const renamed = await w.admin.api.patch(path, { title: 'Renamed by the admin' });
    expect(renamed.status).toBe(200);
    const stale = await w.managerA.api.patch(path, { title: 'Mine' }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect(stale.body.error.details.current).toEqual(renamed.body);
    expect(stale.headers.get('etag')).toBe(renamed.headers.get('etag'));
    expect((await w.managerA.api.delete(path, { 'if-match': etag })).status).toBe(412);
    expect(
      (
        await w.managerA.api.patch(
          path,
          { title: 'weak' },
          { 'if-match': `W/${renamed.headers.get('etag')}` },
        )
      ).status,
    ).toBe(412);

    await w.admin.api.patch(`/api/users/${w.userB.id}`, { active: false });
    const inactive = await w.managerA.api.patch(path, { assignee_id: w.userB.id });
    expect(inactive.status).toBe(422);
    expect(inactive.body.error.details).toEqual([
      { field: 'assignee_id', message: 'must be an active user' },
    ]);
    expect(
      (
        await w.managerA.api.post('/api/tasks', {
          project_id: w.projectA.id,
          title: 'x',
          assignee_id: w.userB.id,
        })
      ).status,
    ).toBe(422);
    await w.admin.api.patch(`/api/users/${w.userB.id}`, { active: true });

    expect((await w.managerA.api.get(path)).body).toEqual(renamed.body);
  });

  it('the change log records who wrote, and the actor setting ends with the statement', async () => {
    const task = (await w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'Logged' }))
      .body;
    await w.managerA.api.patch(`/api/tasks/${task.id}`, { priority: 'low' });
    await w.admin.api.delete(`/api/tasks/${task.id}`);
    const log = await query<{ op: string; actor_id: number | null }>(
      ctx.database.db,
      sql`select op, actor_id from change_log where table_name = 'tasks' and row_id = ${task.id} order by id`,
    );
    expect(log).toEqual([
      { op: 'insert', actor_id: w.managerA.id },
      { op: 'update', actor_id: w.managerA.id },
      { op: 'delete', actor_id: w.admin.id },
    ]);
    const [after] = await query<{ actor: string | null }>(
      ctx.database.db,
      sql`select current_setting('portal.actor_id', true) as actor`,
    );
    expect(after?.actor ?? '').toBe('');
  });

  it('project and user writes: two statements each; a deactivation ends the sign-ins in the same statement', async () => {
    const project = await counted(() =>
      w.managerA.api.post('/api/projects', { name: 'One statement "P" 🦊' }),
    );
    expect(project.reply.status, project.reply.text).toBe(201);
    expect(project.statements).toBe(2);
    const projectPath = `/api/projects/${project.reply.body.id}`;
    const projectTag = (await w.managerA.api.get(projectPath)).headers.get('etag')!;
    const described = await counted(() =>
      w.managerA.api.patch(projectPath, { description: 'Line\none' }, { 'if-match': projectTag }),
    );
    expect(described.reply.status, described.reply.text).toBe(200);
    expect(described.statements).toBe(2);
    expect(
      (await w.managerA.api.patch(projectPath, { name: 'Stale' }, { 'if-match': projectTag })).status,
    ).toBe(412);
    expect((await w.managerB.api.patch(projectPath, { name: 'Not theirs' })).status).toBe(404);
    expect((await w.managerA.api.patch(projectPath, { owner_id: w.managerB.id })).status).toBe(403);
    const dropped = await counted(() =>
      w.managerA.api.delete(projectPath, { 'if-match': described.reply.headers.get('etag')! }),
    );
    expect(dropped.reply.status).toBe(204);
    expect(dropped.statements).toBe(2);

    const user = await counted(() =>
      w.admin.api.post('/api/users', {
        username: 'one.statement',
        password: 'a long enough password 1',
        role: 'user',
      }),
    );
    expect(user.reply.status, user.reply.text).toBe(201);
    expect(user.statements).toBe(2);
    const userPath = `/api/users/${user.reply.body.id}`;
    const signedIn = await w.anon.post('/api/auth/login', {
      username: 'one.statement',
      password: 'a long enough password 1',
    });
    expect(signedIn.status).toBe(200);
    const userTag = (await w.admin.api.get(userPath)).headers.get('etag')!;
    const renamed = await counted(() =>
      w.admin.api.patch(userPath, { display_name: 'Öne "Statement"' }, { 'if-match': userTag }),
    );
    expect(renamed.reply.status, renamed.reply.text).toBe(200);
    expect(renamed.statements).toBe(2);
    expect(
      (await w.admin.api.patch(userPath, { display_name: 'Stale' }, { 'if-match': userTag })).status,
    ).toBe(412);
    const deactivated = await counted(() =>
      w.admin.api.patch(userPath, { active: false }, { 'if-match': renamed.reply.headers.get('etag')! }),
    );
    expect(deactivated.reply.status, deactivated.reply.text).toBe(200);
    expect(deactivated.statements).toBe(2);
    const [sessions] = await query<{ open: number }>(
      ctx.database.db,
      sql`select count(*)::int as open from auth_sessions where user_id = ${user.reply.body.id} and revoked_at is null`,
    );
    expect(sessions?.open).toBe(0);
    // Owning a project keeps a manager from being deleted (409), in one statement or not.
    expect((await w.admin.api.delete(`/api/users/${w.managerA.id}`)).status).toBe(409);
    const removed = await counted(() => w.admin.api.delete(userPath));
    expect(removed.reply.status).toBe(204);
    expect(removed.statements).toBe(2);
    expect((await w.admin.api.get(userPath)).status).toBe(404);
  });

  it('two writers with the same If-Match: exactly one wins, the other gets 412 with the winner’s task', async () => {
    const task = (await w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'Raced' }))
      .body;
    const path = `/api/tasks/${task.id}`;
    const etag = (await w.managerA.api.get(path)).headers.get('etag')!;
    let race: Promise<Reply[]>;
    if (driver === 'pg') {
      // Hold the row, let both writes queue behind the lock, then let go: the second re-checks its
      // WHERE against the row the first wrote, as it would on a busy server.
      const holder = new pg.Client({ connectionString: ctx.url });
      await holder.connect();
      await holder.query('begin');
      await holder.query('select id from tasks where id = $1 for update', [task.id]);
      race = Promise.all([
        w.managerA.api.patch(path, { title: 'From Mara' }, { 'if-match': etag }),
        w.admin.api.patch(path, { title: 'From the admin' }, { 'if-match': etag }),
      ]);
      // Both writes queued behind the lock (statistics are cached per transaction: clear them first).
      for (;;) {
        await holder.query('select pg_stat_clear_snapshot()');
        const waiting = await holder.query(
          `select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and query like 'update "tasks"%'`,
        );
        if (waiting.rows[0].n === 2) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      await holder.query('commit');
      await holder.end();
    } else {
      race = Promise.all([
        w.managerA.api.patch(path, { title: 'From Mara' }, { 'if-match': etag }),
        w.admin.api.patch(path, { title: 'From the admin' }, { 'if-match': etag }),
      ]);
    }
    const replies = await race;
    expect(replies.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = replies.find((r) => r.status === 200)!;
    const loser = replies.find((r) => r.status === 412)!;
    expect(loser.body.error.details.current).toEqual(winner.body);
    expect((await w.managerA.api.get(path)).body).toEqual(winner.body);
  });
});
