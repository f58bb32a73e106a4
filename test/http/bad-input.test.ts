import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../src/db/database.js';
import { startTestApp, type TestApp } from '../support/app.js';
import type { Reply } from '../support/client.js';
import { makeWorld, type World } from '../support/world.js';

/** Bad input always gets a 4xx with the error body, and writes nothing. */
describe('bad input', () => {
  let ctx: TestApp;
  let w: World;
  beforeAll(async () => {
    ctx = await startTestApp('pglite');
    w = await makeWorld(ctx);
  });
  afterAll(() => ctx?.close());

  const counts = async () =>
    (
      await query<Record<string, number>>(
        ctx.database.db,
        sql`select (select count(*)::int from users) as users, (select count(*)::int from projects) as projects,
                   (select count(*)::int from tasks) as tasks, (select count(*)::int from change_log) as changes`,
      )
    )[0];

  function expectErrorBody(res: Reply, status?: number) {
    if (status) expect(res.status).toBe(status);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(res.body.error.code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    expect(typeof res.body.error.message).toBe('string');
  }

  const writes = () => [
    ['POST', '/api/users'],
    ['PATCH', `/api/users/${w.userB.id}`],
    ['POST', '/api/projects'],
    ['PATCH', `/api/projects/${w.projectA.id}`],
    ['POST', '/api/tasks'],
    ['PATCH', `/api/tasks/${w.taskA.id}`],
    ['POST', '/api/auth/login'],
  ];

  it('malformed JSON, wrong content type, empty and oversized bodies', async () => {
    const before = await counts();
    for (const [method, path] of writes()) {
      const api = w.admin.api;
      expectErrorBody(
        await api.send(method!, path!, '{"name": "x",', { 'content-type': 'application/json' }),
        400,
      );
      expectErrorBody(
        await api.send(method!, path!, 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }),
        415,
      );
      expectErrorBody(await api.send(method!, path!, '{"name":"x"}', { 'content-type': 'text/plain' }), 415);
      expectErrorBody(await api.send(method!, path!, '', { 'content-type': 'application/json' }));
      expectErrorBody(await api.send(method!, path!, 'null'), 422);
      expectErrorBody(await api.send(method!, path!, '[]'), 422);
      expectErrorBody(await api.send(method!, path!, `{"title":"${'x'.repeat(2 * 1024 * 1024)}"}`), 413);
    }
    expect(await counts()).toEqual(before);
  });

  it('wrong types, missing and unknown fields, huge strings: 422 naming each field', async () => {
    const before = await counts();
    const cases: [string, string, unknown, string[]][] = [
      ['POST', '/api/users', { username: 'ok_name', role: 'user' }, ['password']],
      [
        'POST',
        '/api/users',
        { username: 'ok_name', password: 12345678901234, role: 'boss' },
        ['password', 'role'],
      ],
      [
        'POST',
        '/api/users',
        { username: 'a b', password: 'long enough password', role: 'user', is_admin: true },
        ['username', 'is_admin'],
      ],
      [
        'POST',
        '/api/users',
        { username: 'x'.repeat(10_000), password: 'long enough password', role: 'user' },
        ['username'],
      ],
      ['PATCH', `/api/users/${w.userB.id}`, {}, ['(body)']],
      ['PATCH', `/api/users/${w.userB.id}`, { active: 'yes', role: null }, ['active', 'role']],
      ['POST', '/api/projects', { name: '' }, ['name']],
      [
        'POST',
        '/api/projects',
        { name: 'n'.repeat(201), description: 'd'.repeat(10_001) },
        ['name', 'description'],
      ],
      ['POST', '/api/projects', { name: 'ok', owner_id: '3' }, ['owner_id']],
      ['PATCH', `/api/projects/${w.projectA.id}`, { name: ['array'] }, ['name']],
      ['POST', '/api/tasks', { title: 'no project' }, ['project_id']],
      [
        'POST',
        '/api/tasks',
        { project_id: w.projectA.id, title: 't', status: 'finished', priority: 1 },
        ['status', 'priority'],
      ],
      ['POST', '/api/tasks', { project_id: w.projectA.id, title: 't', due_date: '31/12/2026' }, ['due_date']],
      ['POST', '/api/tasks', { project_id: w.projectA.id, title: 't', due_date: '2026-02-30' }, ['due_date']],
      ['POST', '/api/tasks', { project_id: -1, title: 't' }, ['project_id']],
      ['POST', '/api/tasks', { project_id: 1e30, title: 't' }, ['project_id']],
      [
        'POST',
        '/api/tasks',
        { project_id: 1.5, title: 't', assignee_id: 'me' },
        ['project_id', 'assignee_id'],
      ],
      ['PATCH', `/api/tasks/${w.taskA.id}`, { title: 't'.repeat(100_000) }, ['title']],
      ['PATCH', `/api/tasks/${w.taskA.id}`, { status: 'done', hack: "'; drop table tasks; --" }, ['hack']],
      ['POST', '/api/auth/login', { username: 'root' }, ['password']],
      ['POST', '/api/auth/login', { username: 'root', password: 'x', remember: true }, ['remember']],
    ];
    for (const [method, path, body, fields] of cases) {
      const res = await w.admin.api.send(method, path, body);
      expectErrorBody(res, 422);
      const named = res.body.error.details.map((d: { field: string }) => d.field);
      for (const field of fields)
        expect(named, `${method} ${path} ${JSON.stringify(body).slice(0, 80)}`).toContain(field);
    }
    expect(await counts()).toEqual(before);
  });

  it('odd ids in paths and queries', async () => {
    const before = await counts();
    const odd = [
      'abc',
      '-1',
      '0',
      '1%20OR%201=1',
      '1;drop%20table%20users',
      '123456789012345678901234567890',
      '1.5',
      '%00',
      '2147483648',
      '0x10',
    ];
    for (const id of odd) {
      for (const [method, base] of [
        ['GET', '/api/users/'],
        ['PATCH', '/api/users/'],
        ['DELETE', '/api/users/'],
        ['GET', '/api/projects/'],
        ['PATCH', '/api/projects/'],
        ['DELETE', '/api/projects/'],
        ['GET', '/api/tasks/'],
        ['PATCH', '/api/tasks/'],
        ['DELETE', '/api/tasks/'],
      ] as const) {
        const res = await w.admin.api.send(
          method,
          `${base}${id}`,
          method === 'PATCH' ? { name: 'x' } : undefined,
        );
        expectErrorBody(res);
      }
      for (const param of ['project_id', 'assignee_id', 'limit', 'offset', 'sort', 'status', 'overdue']) {
        if (param === 'offset' && id === '0') continue; // offset=0 is a fine offset
        expectErrorBody(await w.admin.api.get(`/api/tasks?${param}=${id}`), 422);
      }
      expectErrorBody(await w.admin.api.get(`/api/audit?actor_id=${id}`), 422);
      expectErrorBody(await w.admin.api.get(`/api/users?role=${id}`), 422);
    }
    expectErrorBody(await w.admin.api.get('/api/tasks?limit=201'), 422);
    expectErrorBody(await w.admin.api.get(`/api/me/sessions/not-a-uuid`), 404);
    expectErrorBody(await w.admin.api.delete('/api/me/sessions/not-a-uuid'), 422);
    expect(await counts()).toEqual(before);
  });

  it('references to objects that do not exist are 4xx, not 5xx', async () => {
    const before = await counts();
    expectErrorBody(await w.admin.api.post('/api/tasks', { project_id: 2_000_000_000, title: 't' }), 404);
    expectErrorBody(
      await w.admin.api.post('/api/tasks', {
        project_id: w.projectA.id,
        title: 't',
        assignee_id: 2_000_000_000,
      }),
      422,
    );
    expectErrorBody(await w.admin.api.post('/api/projects', { name: 'p', owner_id: 2_000_000_000 }), 422);
    expectErrorBody(await w.admin.api.patch(`/api/tasks/${w.taskA.id}`, { project_id: 2_000_000_000 }), 404);
    expectErrorBody(
      await w.admin.api.patch(`/api/projects/${w.projectA.id}`, { owner_id: 2_000_000_000 }),
      422,
    );
    expect(await counts()).toEqual(before);
  });

  describe('property: no payload produces a 5xx', () => {
    const scalar = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 50 }),
      fc.integer(),
      fc.double(),
      fc.bigInt().map((n) => Number(n)),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom('todo', 'done', 'admin', 'user', '2026-12-31', '', ' ', '1', '-1'),
    );
    const value = fc.oneof(
      scalar,
      fc.array(scalar, { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 8 }), scalar, { maxKeys: 3 }),
    );
    const keys = [
      'username',
      'password',
      'role',
      'display_name',
      'active',
      'name',
      'description',
      'owner_id',
      'project_id',
      'title',
      'status',
      'priority',
      'assignee_id',
      'due_date',
    ];
    const payload = fc.oneof(
      fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 6 }),
      fc.anything({ maxDepth: 2 }),
    );

    it.each([
      ['admin', 'POST', '/api/projects'],
      ['admin', 'POST', '/api/tasks'],
      ['manager', 'POST', '/api/tasks'],
      ['admin', 'PATCH', '/api/projects/:project'],
      ['manager', 'PATCH', '/api/tasks/:task'],
      ['user', 'PATCH', '/api/tasks/:task'],
      ['admin', 'PATCH', '/api/users/:user'],
      ['admin', 'POST', '/api/users'],
    ] as const)('%s %s %s', async (role, method, path) => {
      const caller = { admin: w.admin, manager: w.managerA, user: w.userA }[role];
      const url = path
        .replace(':project', String(w.projectA.id))
        .replace(':task', String(w.taskA.id))
        .replace(':user', String(w.userB.id));
      await fc.assert(
        fc.asyncProperty(payload, async (body) => {
          const res = await caller.api.send(method, url, JSON.stringify(body));
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) expectErrorBody(res);
        }),
        { numRuns: method === 'POST' && path === '/api/users' ? 40 : 120 },
      );
    });
  });
});
