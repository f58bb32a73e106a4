import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import type { Reply } from '../support/client.ts';
import { expectErrorBody } from '../support/errors.ts';
import { type ContractCheck, validateResponses } from '../support/openapi-contract.ts';
import { makeWorld, type World } from '../support/world.ts';

/** Optimistic concurrency: ETag on GET and PATCH, If-Match on PATCH and DELETE, 412 with the current object. */

const STRONG = /^"[A-Za-z0-9_-]{10,}"$/;

function expectPreconditionFailed(res: Reply, current: unknown) {
  expectErrorBody(res, 412);
  expect(res.body.error.code).toBe('precondition_failed');
  expect(res.body.error.details.current).toEqual(current);
  expect(res.body.error.details.etag).toBe(res.headers.get('etag'));
}

describe.each(['pglite', 'pg'] as const)('ETag and If-Match on %s', (driver) => {
  let ctx: TestApp;
  let w: World;
  let contract: ContractCheck;
  beforeAll(async () => {
    ctx = await startTestApp(driver);
    contract = await validateResponses(ctx);
    w = await makeWorld(ctx);
  });
  afterAll(async () => {
    await ctx?.close();
    expect(contract.validated).toBeGreaterThan(40);
  });

  const objects = () =>
    [
      { path: `/api/tasks/${w.taskA.id}`, api: w.managerA.api, patch: { title: 'Renamed task' } },
      { path: `/api/projects/${w.projectA.id}`, api: w.managerA.api, patch: { description: 'New text' } },
      { path: `/api/users/${w.userB.id}`, api: w.admin.api, patch: { display_name: 'Ulrich B.' } },
    ] as const;

  it('GET answers a strong ETag that stays while the object does and changes with every write', async () => {
    for (const { path, api, patch } of objects()) {
      const first = await api.get(path);
      expect(first.status).toBe(200);
      const etag = first.headers.get('etag')!;
      expect(etag, path).toMatch(STRONG);
      expect((await api.get(path)).headers.get('etag')).toBe(etag);
      // Another reader (an admin) sees the same object: the same tag.
      expect((await w.admin.api.get(path)).headers.get('etag')).toBe(etag);
      const changed = await api.patch(path, patch, { 'if-match': etag });
      expect(changed.status, changed.text).toBe(200);
      const next = changed.headers.get('etag')!;
      expect(next).toMatch(STRONG);
      expect(next).not.toBe(etag);
      // The PATCH answer's tag is the one a GET now answers.
      const after = await api.get(path);
      expect(after.headers.get('etag')).toBe(next);
      expect(after.body).toEqual(changed.body);
    }
  });

  it('a write from outside the portal (plain SQL, even one changing no value) changes the ETag', async () => {
    for (const [table, path, api] of [
      ['tasks', `/api/tasks/${w.taskB.id}`, w.managerB.api],
      ['projects', `/api/projects/${w.projectB.id}`, w.managerB.api],
      ['users', `/api/users/${w.userA.id}`, w.admin.api],
    ] as const) {
      const before = (await api.get(path)).headers.get('etag');
      const id = Number(path.split('/').pop());
      await ctx.database.db.execute(sql`update ${sql.identifier(table)} set id = id where id = ${id}`);
      const after = await api.get(path);
      expect(after.headers.get('etag'), table).not.toBe(before);
      // The old tag is refused, with the object as it is now.
      const stale = await api.patch(path, table === 'users' ? { display_name: 'x' } : { name: 'x' }, {
        'if-match': before!,
      });
      if (table === 'tasks')
        expect(stale.status).toBe(422); // tasks have no `name`: validation first
      else expectPreconditionFailed(stale, after.body);
    }
  });

  it('PATCH with a stale If-Match answers 412 precondition_failed with the current object and changes nothing', async () => {
    const path = `/api/tasks/${w.taskA.id}`;
    const read = await w.managerA.api.get(path);
    const etag = read.headers.get('etag')!;
    // Someone else writes in between.
    const other = await w.admin.api.patch(path, { priority: 'high' });
    expect(other.status).toBe(200);
    const stale = await w.managerA.api.patch(path, { title: 'Mine' }, { 'if-match': etag });
    expectPreconditionFailed(stale, other.body);
    expect(stale.headers.get('etag')).toBe(other.headers.get('etag'));
    expect((await w.managerA.api.get(path)).body.title).toBe(other.body.title);
    // The assignee, who may change the status only, is held to the same rule.
    const asAssignee = await w.userA.api.patch(path, { status: 'done' }, { 'if-match': etag });
    expectPreconditionFailed(asAssignee, other.body);
    // Overwrite: send the current tag (or no If-Match at all, as before).
    const overwrite = await w.managerA.api.patch(
      path,
      { title: 'Mine' },
      { 'if-match': stale.body.error.details.etag },
    );
    expect(overwrite.status).toBe(200);
    expect(overwrite.body.title).toBe('Mine');
    expect((await w.managerA.api.patch(path, { title: 'Mine again' })).status).toBe(200);
  });

  it('If-Match: * matches any current object; a list matches if one strong tag does; weak tags never match', async () => {
    const path = `/api/projects/${w.projectA.id}`;
    const etag = (await w.managerA.api.get(path)).headers.get('etag')!;
    const star = await w.managerA.api.patch(path, { description: 'star' }, { 'if-match': '*' });
    expect(star.status).toBe(200);
    const now = star.headers.get('etag')!;
    const list = await w.managerA.api.patch(path, { description: 'list' }, { 'if-match': `${etag}, ${now}` });
    expect(list.status).toBe(200);
    const current = list.headers.get('etag')!;
    const weak = await w.managerA.api.patch(path, { description: 'weak' }, { 'if-match': `W/${current}` });
    expectPreconditionFailed(weak, list.body);
    const malformed = await w.managerA.api.patch(path, { description: 'x' }, { 'if-match': 'no-quotes' });
    expectErrorBody(malformed, 400);
    expect(malformed.body.error.code).toBe('bad_request');
    // Not visible to the caller: 404 whatever the precondition (its existence does not leak).
    const hidden = await w.managerB.api.patch(path, { description: 'x' }, { 'if-match': current });
    expectErrorBody(hidden, 404);
  });

  it('DELETE with a stale If-Match answers 412 and deletes nothing; with the current one it deletes', async () => {
    const created = await w.managerA.api.post('/api/tasks', {
      project_id: w.projectA.id,
      title: 'To delete',
    });
    expect(created.status).toBe(201);
    const path = `/api/tasks/${created.body.id}`;
    const etag = (await w.managerA.api.get(path)).headers.get('etag')!;
    const moved = await w.managerA.api.patch(path, { status: 'blocked' });
    const stale = await w.managerA.api.delete(path, { 'if-match': etag });
    expectPreconditionFailed(stale, moved.body);
    expect(await w.taskExists(created.body.id)).toBe(true);
    const gone = await w.managerA.api.delete(path, { 'if-match': moved.headers.get('etag')! });
    expect(gone.status).toBe(204);
    expect(await w.taskExists(created.body.id)).toBe(false);

    const user = await w.admin.api.post('/api/users', {
      username: `del-${driver}`,
      password: 'a perfectly long passphrase',
      role: 'user',
    });
    const userPath = `/api/users/${user.body.id}`;
    const userTag = (await w.admin.api.get(userPath)).headers.get('etag')!;
    const renamed = await w.admin.api.patch(userPath, { display_name: 'Renamed' });
    expectPreconditionFailed(await w.admin.api.delete(userPath, { 'if-match': userTag }), renamed.body);
    expect((await w.admin.api.delete(userPath, { 'if-match': '*' })).status).toBe(204);
  });

  it('two writers holding the same ETag: exactly one wins, the other gets 412', async () => {
    const path = `/api/tasks/${w.taskB.id}`;
    for (let round = 0; round < 5; round++) {
      const etag = (await w.managerB.api.get(path)).headers.get('etag')!;
      const [a, b] = await Promise.all([
        w.managerB.api.patch(path, { title: `A${round}` }, { 'if-match': etag }),
        w.admin.api.patch(path, { title: `B${round}` }, { 'if-match': etag }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 412]);
      const winner = a.status === 200 ? a : b;
      expect((await w.admin.api.get(path)).body.title).toBe(winner.body.title);
    }
  });
});

describe('If-Match check and write are atomic (real PostgreSQL, a writer in between)', () => {
  let ctx: TestApp;
  let w: World;
  beforeAll(async () => {
    ctx = await startTestApp('pg');
    w = await makeWorld(ctx);
  });
  afterAll(() => ctx?.close());

  it('a PATCH waiting on a row another transaction changes sees that change and answers 412', async () => {
    const path = `/api/tasks/${w.taskA.id}`;
    const etag = (await w.managerA.api.get(path)).headers.get('etag')!;
    const psql = new pg.Client({ connectionString: ctx.url });
    await psql.connect();
    try {
      await psql.query('begin');
      await psql.query('select id from tasks where id = $1 for update', [w.taskA.id]);
      // The PATCH starts while the row is locked, with a tag that is still current.
      const patch = w.managerA.api.patch(path, { title: 'Lost update?' }, { 'if-match': etag });
      // Wait until the PATCH is blocked on that row lock.
      for (;;) {
        const { rows } = await psql.query(
          `select count(*)::int as n from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()`,
        );
        if (rows[0].n > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      await psql.query(`update tasks set title = 'Written by psql' where id = $1`, [w.taskA.id]);
      await psql.query('commit');
      const res = await patch;
      expectErrorBody(res, 412);
      expect(res.body.error.details.current.title).toBe('Written by psql');
      expect((await w.managerA.api.get(path)).body.title).toBe('Written by psql');
    } finally {
      await psql.end();
    }
  });
});
