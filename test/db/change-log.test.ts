import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../src/db/database.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { makeWorld, type World } from '../support/world.ts';

interface Entry {
  tx_id: string;
  table_name: string;
  op: string;
  row_id: number;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  affected_user_ids: number[];
  actor_id: number | null;
}

const ids = (...list: number[]) => [...new Set(list)].sort((a, b) => a - b);
const until = async (done: () => boolean, ms = 5000) => {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
};

/**
 * Every write to users, projects and tasks lands in change_log in its own transaction: from the
 * portal with the caller as actor, from anything else (psql, an ETL job) with no actor. The
 * affected users are who the realtime leader recomputes dashboards for, so they must be exact.
 */
describe.each(['pglite', 'pg'] as const)('change capture on %s', (driver) => {
  let ctx: TestApp;
  let w: World;
  /** Plain SQL from outside the portal: its own connection on pg, the raw connection on PGlite. */
  let outside: (text: string) => Promise<void>;
  let outsideClient: pg.Client | undefined;

  beforeAll(async () => {
    ctx = await startTestApp(driver);
    w = await makeWorld(ctx);
    if (driver === 'pg') {
      const c = new pg.Client({ connectionString: ctx.url });
      await c.connect();
      outsideClient = c;
      outside = async (text) => void (await c.query(text));
    } else {
      // Same single connection the API just wrote through: portal.actor_id must not linger on it.
      outside = async (text) => void (await ctx.database.db.execute(sql.raw(text)));
    }
  });
  afterAll(async () => {
    await outsideClient?.end();
    await ctx?.close();
  });

  const mark = async () =>
    (
      await query<{ id: string }>(
        ctx.database.db,
        sql`select coalesce(max(id), 0)::text as id from change_log`,
      )
    )[0]!.id;
  const since = (id: string) =>
    query<Entry>(
      ctx.database.db,
      sql`select tx_id::text, table_name, op, row_id, before, after, affected_user_ids, actor_id
          from change_log where id > ${id}::bigint order by id`,
    );
  /** The entries written while `work` ran. */
  const logged = async (work: () => Promise<unknown>) => {
    const start = await mark();
    await work();
    return since(start);
  };

  describe('writes made with plain SQL outside the portal', () => {
    it('a task reassigned to another user affects the old and new assignee and the project owner', async () => {
      const entries = await logged(() =>
        outside(`update tasks set assignee_id = ${w.userB.id} where id = ${w.taskA.id}`),
      );
      expect(entries).toEqual([
        expect.objectContaining({
          table_name: 'tasks',
          op: 'update',
          row_id: w.taskA.id,
          actor_id: null,
          before: { assignee_id: w.userA.id },
          after: { assignee_id: w.userB.id },
          affected_user_ids: ids(w.userA.id, w.userB.id, w.managerA.id),
        }),
      ]);
      const back = await logged(() =>
        outside(`update tasks set assignee_id = ${w.userA.id} where id = ${w.taskA.id}`),
      );
      expect(back).toHaveLength(1);
      expect(back[0]!.actor_id).toBeNull();
    });

    it('a task moved to another project affects the owners of both projects', async () => {
      const entries = await logged(() =>
        outside(`update tasks set project_id = ${w.projectB.id} where id = ${w.taskA.id}`),
      );
      expect(entries).toEqual([
        expect.objectContaining({
          table_name: 'tasks',
          row_id: w.taskA.id,
          actor_id: null,
          before: { project_id: w.projectA.id },
          after: { project_id: w.projectB.id },
          affected_user_ids: ids(w.userA.id, w.managerA.id, w.managerB.id),
        }),
      ]);
      await outside(`update tasks set project_id = ${w.projectA.id} where id = ${w.taskA.id}`);
    });

    it('a project handed to another owner affects both owners', async () => {
      const entries = await logged(() =>
        outside(`update projects set owner_id = ${w.managerB.id} where id = ${w.projectA.id}`),
      );
      expect(entries).toEqual([
        expect.objectContaining({
          table_name: 'projects',
          op: 'update',
          row_id: w.projectA.id,
          actor_id: null,
          before: { owner_id: w.managerA.id },
          after: { owner_id: w.managerB.id },
          affected_user_ids: ids(w.managerA.id, w.managerB.id),
        }),
      ]);
      await outside(`update projects set owner_id = ${w.managerA.id} where id = ${w.projectA.id}`);
    });

    it('a user update affects that user; a password change shows as a flag, never the hash', async () => {
      const entries = await logged(async () => {
        await outside(`update users set display_name = 'Ursula U.' where id = ${w.userA.id}`);
        await outside(`update users set password_hash = password_hash || '-xyz' where id = ${w.userA.id}`);
      });
      await outside(`update users set password_hash = left(password_hash, -4) where id = ${w.userA.id}`);
      expect(entries).toEqual([
        expect.objectContaining({
          table_name: 'users',
          op: 'update',
          row_id: w.userA.id,
          actor_id: null,
          before: { display_name: '' },
          after: { display_name: 'Ursula U.' },
          affected_user_ids: [w.userA.id],
        }),
        expect.objectContaining({
          table_name: 'users',
          row_id: w.userA.id,
          actor_id: null,
          before: {},
          after: { password_changed: true },
          affected_user_ids: [w.userA.id],
        }),
      ]);
      expect(JSON.stringify(entries)).not.toContain('-xyz');
      expect(JSON.stringify(entries)).not.toContain('$argon2');
      expect(JSON.stringify(entries)).not.toContain('password_hash');
    });

    it('inserts and deletes are logged with the whole row and no actor', async () => {
      const entries = await logged(async () => {
        await outside(
          `insert into tasks (project_id, title, assignee_id) values (${w.projectB.id}, 'From psql', ${w.userA.id})`,
        );
        await outside(`delete from tasks where title = 'From psql'`);
      });
      expect(entries.map((e) => [e.table_name, e.op, e.actor_id, e.affected_user_ids])).toEqual([
        ['tasks', 'insert', null, ids(w.userA.id, w.managerB.id)],
        ['tasks', 'delete', null, ids(w.userA.id, w.managerB.id)],
      ]);
      expect(entries[0]!.before).toBeNull();
      expect(entries[0]!.after).toMatchObject({
        title: 'From psql',
        project_id: w.projectB.id,
        assignee_id: w.userA.id,
        status: 'todo',
        priority: 'medium',
      });
      expect(entries[1]!.before).toEqual(entries[0]!.after);
      expect(entries[1]!.after).toBeNull();
    });

    it('an update that changes nothing writes nothing', async () => {
      const entries = await logged(async () => {
        await outside(`update tasks set title = title, priority = priority where id = ${w.taskA.id}`);
        await outside(`update projects set name = name where id = ${w.projectA.id}`);
        await outside(`update users set display_name = display_name, role = role`);
      });
      expect(entries).toEqual([]);
    });
  });

  describe('writes through the API', () => {
    it('every create, update and delete is logged with the caller as actor', async () => {
      let userId = 0;
      let projectId = 0;
      let taskId = 0;
      const expectOk = (status: number, expected: number) => expect(status).toBe(expected);
      const entries = await logged(async () => {
        const user = await w.admin.api.post('/api/users', {
          username: 'logged',
          password: 'a long password here',
          role: 'manager',
        });
        expectOk(user.status, 201);
        userId = user.body.id;
        expectOk((await w.admin.api.patch(`/api/users/${userId}`, { display_name: 'Logged' })).status, 200);
        const project = await w.managerA.api.post('/api/projects', { name: 'Logged project' });
        expectOk(project.status, 201);
        projectId = project.body.id;
        expectOk((await w.managerA.api.patch(`/api/projects/${projectId}`, { name: 'Renamed' })).status, 200);
        const task = await w.managerA.api.post('/api/tasks', {
          project_id: projectId,
          title: 'Logged task',
          assignee_id: w.userA.id,
        });
        expectOk(task.status, 201);
        taskId = task.body.id;
        expectOk((await w.userA.api.patch(`/api/tasks/${taskId}`, { status: 'in_progress' })).status, 200);
        expectOk((await w.managerA.api.patch(`/api/tasks/${taskId}`, { priority: 'urgent' })).status, 200);
        expectOk((await w.managerA.api.delete(`/api/tasks/${taskId}`)).status, 204);
        expectOk((await w.admin.api.delete(`/api/projects/${projectId}`)).status, 204);
        expectOk((await w.admin.api.delete(`/api/users/${userId}`)).status, 204);
      });
      expect(entries.map((e) => [e.table_name, e.op, e.row_id, e.actor_id])).toEqual([
        ['users', 'insert', userId, w.admin.id],
        ['users', 'update', userId, w.admin.id],
        ['projects', 'insert', projectId, w.managerA.id],
        ['projects', 'update', projectId, w.managerA.id],
        ['tasks', 'insert', taskId, w.managerA.id],
        ['tasks', 'update', taskId, w.userA.id],
        ['tasks', 'update', taskId, w.managerA.id],
        ['tasks', 'delete', taskId, w.managerA.id],
        ['projects', 'delete', projectId, w.admin.id],
        ['users', 'delete', userId, w.admin.id],
      ]);
      const byOp = (table: string, op: string) =>
        entries.filter((e) => e.table_name === table && e.op === op);
      expect(byOp('tasks', 'insert')[0]!.affected_user_ids).toEqual(ids(w.userA.id, w.managerA.id));
      expect(byOp('projects', 'insert')[0]!.affected_user_ids).toEqual([w.managerA.id]);
      expect(byOp('users', 'insert')[0]!.affected_user_ids).toEqual([userId]);
    });

    it('before/after hold only the changed columns, and never a password hash', async () => {
      let userId = 0;
      const entries = await logged(async () => {
        const user = await w.admin.api.post('/api/users', {
          username: 'hashless',
          password: 'a long password here',
          role: 'user',
        });
        userId = user.body.id;
        await w.admin.api.patch(`/api/users/${userId}`, {
          password: 'another long password',
          display_name: 'H',
        });
        await w.userA.api.patch(`/api/tasks/${w.taskA.id}`, { status: 'done' });
        await w.managerA.api.patch(`/api/projects/${w.projectA.id}`, { description: 'Now described' });
        await w.admin.api.delete(`/api/users/${userId}`);
      });
      expect(entries).toHaveLength(5);
      const [created, updated, task, project, deleted] = entries as [Entry, Entry, Entry, Entry, Entry];
      expect(created.before).toBeNull();
      expect(Object.keys(created.after!).sort()).toEqual(
        ['active', 'created_at', 'display_name', 'id', 'role', 'username'].sort(),
      );
      expect(updated.before).toEqual({ display_name: '' });
      expect(updated.after).toEqual({ display_name: 'H', password_changed: true });
      // completed_at follows the status (set by the database), so it changed too.
      expect(task.before).toEqual({ status: 'todo', completed_at: null });
      expect(Object.keys(task.after!).sort()).toEqual(['completed_at', 'status']);
      expect(task.after!.status).toBe('done');
      expect(task.after!.completed_at).toEqual(expect.any(String));
      expect(project.before).toEqual({ description: '' });
      expect(project.after).toEqual({ description: 'Now described' });
      expect(deleted.after).toBeNull();
      expect(deleted.before).toMatchObject({ id: userId, username: 'hashless', display_name: 'H' });
      const text = JSON.stringify(entries);
      expect(text).not.toContain('password_hash');
      expect(text).not.toContain('$argon2');
      expect(text).not.toContain('updated_at');
      await w.userA.api.patch(`/api/tasks/${w.taskA.id}`, { status: 'todo' });
    });

    it('a PATCH with the values already there writes nothing', async () => {
      const entries = await logged(async () => {
        const task = await w.managerA.api.patch(`/api/tasks/${w.taskA.id}`, {
          title: w.taskA.title,
          priority: w.taskA.priority,
          assignee_id: w.userA.id,
        });
        expect(task.status).toBe(200);
        const project = await w.managerA.api.patch(`/api/projects/${w.projectA.id}`, {
          name: w.projectA.name,
        });
        expect(project.status).toBe(200);
        const user = await w.admin.api.patch(`/api/users/${w.userB.id}`, { role: 'user', active: true });
        expect(user.status).toBe(200);
      });
      expect(entries).toEqual([]);
    });
  });

  describe('cascades', () => {
    it('deleting a project logs the deletes of its tasks, with the same actor and transaction', async () => {
      const project = await w.managerB.api.post('/api/projects', { name: 'Doomed' });
      const t1 = await w.managerB.api.post('/api/tasks', {
        project_id: project.body.id,
        title: 'Doomed 1',
        assignee_id: w.userA.id,
      });
      const t2 = await w.managerB.api.post('/api/tasks', { project_id: project.body.id, title: 'Doomed 2' });
      const entries = await logged(async () => {
        expect((await w.managerB.api.delete(`/api/projects/${project.body.id}`)).status).toBe(204);
      });
      expect(
        entries
          .map((e) => [e.table_name, e.op, e.row_id, e.actor_id])
          .sort((a, b) => String(a).localeCompare(String(b))),
      ).toEqual(
        [
          ['projects', 'delete', project.body.id, w.managerB.id],
          ['tasks', 'delete', t1.body.id, w.managerB.id],
          ['tasks', 'delete', t2.body.id, w.managerB.id],
        ].sort((a, b) => String(a).localeCompare(String(b))),
      );
      expect(new Set(entries.map((e) => e.tx_id)).size).toBe(1);
      const first = entries.find((e) => e.row_id === t1.body.id && e.table_name === 'tasks')!;
      expect(first.before).toMatchObject({ title: 'Doomed 1', assignee_id: w.userA.id });
      expect(first.affected_user_ids).toContain(w.userA.id);
      const projectEntry = entries.find((e) => e.table_name === 'projects')!;
      expect(projectEntry.affected_user_ids).toEqual([w.managerB.id]);
    });

    it('deleting a user logs their tasks becoming unassigned, with that actor', async () => {
      const user = await w.admin.api.post('/api/users', {
        username: 'goner',
        password: 'a long password here',
        role: 'user',
      });
      const t1 = await w.managerB.api.post('/api/tasks', {
        project_id: w.projectB.id,
        title: 'Kept 1',
        assignee_id: user.body.id,
      });
      const t2 = await w.managerA.api.post('/api/tasks', {
        project_id: w.projectA.id,
        title: 'Kept 2',
        assignee_id: user.body.id,
      });
      const entries = await logged(async () => {
        expect((await w.admin.api.delete(`/api/users/${user.body.id}`)).status).toBe(204);
      });
      const unassigned = entries.filter((e) => e.table_name === 'tasks');
      expect(unassigned.map((e) => [e.op, e.row_id, e.actor_id]).sort()).toEqual(
        [
          ['update', t1.body.id, w.admin.id],
          ['update', t2.body.id, w.admin.id],
        ].sort(),
      );
      for (const entry of unassigned) {
        expect(entry.before).toEqual({ assignee_id: user.body.id });
        expect(entry.after).toEqual({ assignee_id: null });
      }
      expect(unassigned.find((e) => e.row_id === t1.body.id)!.affected_user_ids).toEqual(
        ids(user.body.id, w.managerB.id),
      );
      expect(unassigned.find((e) => e.row_id === t2.body.id)!.affected_user_ids).toEqual(
        ids(user.body.id, w.managerA.id),
      );
      expect(entries.filter((e) => e.table_name === 'users')).toEqual([
        expect.objectContaining({ op: 'delete', row_id: user.body.id, actor_id: w.admin.id }),
      ]);
      expect(new Set(entries.map((e) => e.tx_id)).size).toBe(1);
    });
  });

  it('a bulk update of 2,000 rows in one transaction logs 2,000 changes and notifies once', async () => {
    const [bulk] = await query<{ id: number }>(
      ctx.database.db,
      sql`insert into projects (name, owner_id) values ('Bulk', ${w.managerB.id}) returning id`,
    );
    await outside(
      `insert into tasks (project_id, title, priority) select ${bulk!.id}, 'bulk ' || g, 'low' from generate_series(1, 2000) g`,
    );
    let notifications = 0;
    let stopListening: () => Promise<void>;
    if (driver === 'pg') {
      const listener = new pg.Client({ connectionString: ctx.url });
      await listener.connect();
      listener.on('notification', (n) => {
        if (n.channel === 'portal_changes') notifications++;
      });
      await listener.query('listen portal_changes');
      stopListening = () => listener.end();
    } else {
      const listener = await ctx.database.openListener();
      await listener.listen('portal_changes', () => notifications++);
      stopListening = () => listener.close();
    }
    try {
      const entries = await logged(async () => {
        if (outsideClient) {
          await outsideClient.query('begin');
          await outsideClient.query(`update tasks set priority = 'high' where project_id = ${bulk!.id}`);
          await outsideClient.query('commit');
        } else {
          await ctx.database.db.transaction(async (tx) => {
            await tx.execute(sql`update tasks set priority = 'high' where project_id = ${bulk!.id}`);
          });
        }
        await until(() => notifications > 0);
        // Any further notification for the same transaction would have arrived by now.
        await new Promise((r) => setTimeout(r, 300));
      });
      expect(entries).toHaveLength(2000);
      expect(new Set(entries.map((e) => e.tx_id)).size).toBe(1);
      expect(new Set(entries.map((e) => e.row_id)).size).toBe(2000);
      for (const e of entries) {
        expect(e.actor_id).toBeNull();
        expect(e.before).toEqual({ priority: 'low' });
        expect(e.after).toEqual({ priority: 'high' });
        expect(e.affected_user_ids).toEqual([w.managerB.id]);
      }
      expect(notifications).toBe(1);
    } finally {
      await stopListening();
    }
  });
});
