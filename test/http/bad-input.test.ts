import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { query } from '../../src/db/database.ts';
import { useApi } from '../support/api-harness.ts';
import { expectErrorBody } from '../support/errors.ts';
import { PASSWORD } from '../support/world.ts';

/**
 * Bad input on every write route, and odd ids in every path and filter: always a 4xx with exactly
 * the error body of docs/contract.md §4 (422s naming each bad field), never a 5xx, and nothing is written.
 */

const ODD_IDS = [
  'abc',
  '-1',
  '0',
  '1%20OR%201=1',
  "1'%20OR%20'1'='1",
  '1;drop%20table%20users',
  '123456789012345678901234567890',
  '1.5',
  '%00',
  '1%00',
  '2147483648',
  '0x10',
  '1e3',
  '+1',
  '%201',
  '',
];

describe('bad input (pglite)', () => {
  // One app, its organisation and the OpenAPI response check (test/support/api-harness.ts).
  const h = useApi('pglite', { minValidated: 1001, app: {} });

  /** Row counts of every table a write could touch (change_log catches updates too). */
  const counts = async () =>
    (
      await query<Record<string, number>>(
        h.ctx.database.db,
        sql`select (select count(*)::int from users) as users,
                   (select count(*)::int from projects) as projects,
                   (select count(*)::int from tasks) as tasks,
                   (select count(*)::int from change_log) as change_log,
                   (select count(*)::int from auth_sessions) as auth_sessions`,
      )
    )[0]!;

  /** Each write route with a body it would accept, so one bad field at a time is the only fault. */
  const routes = () =>
    [
      {
        method: 'POST',
        path: '/api/users',
        valid: { username: 'newcomer', password: 'a long enough password', role: 'user', display_name: 'N' },
        required: ['username', 'password', 'role'],
      },
      {
        method: 'PATCH',
        path: `/api/users/${h.w.userB.id}`,
        valid: { role: 'user', password: 'a long enough password', display_name: 'U', active: true },
        required: [],
      },
      {
        method: 'POST',
        path: '/api/projects',
        valid: { name: 'P', description: 'd', owner_id: h.w.managerA.id },
        required: ['name'],
      },
      {
        method: 'PATCH',
        path: `/api/projects/${h.w.projectA.id}`,
        valid: { name: 'P', description: 'd', owner_id: h.w.managerA.id },
        required: [],
      },
      {
        method: 'POST',
        path: '/api/tasks',
        valid: {
          project_id: h.w.projectA.id,
          title: 'T',
          assignee_id: h.w.userA.id,
          status: 'todo',
          priority: 'high',
          due_date: '2026-12-31',
        },
        required: ['project_id', 'title'],
      },
      {
        method: 'PATCH',
        path: `/api/tasks/${h.w.taskA.id}`,
        valid: {
          project_id: h.w.projectA.id,
          title: 'T',
          assignee_id: h.w.userA.id,
          status: 'done',
          priority: 'low',
          due_date: '2026-12-31',
        },
        required: [],
      },
      {
        method: 'POST',
        path: '/api/auth/login',
        valid: { username: 'root', password: PASSWORD },
        required: ['username', 'password'],
      },
    ] as const;

  const huge = (n: number) => 'x'.repeat(n);
  const NUL = 'a\u0000b';
  /** Values each field must refuse, by field. */
  const id = ['1', [1], { id: 1 }, 1.5, -1, 0, 2 ** 31, 1e30, true, Number.MAX_SAFE_INTEGER + 2];
  const text200 = [123, ['x'], { x: 1 }, true, null, huge(10_001), NUL];
  const BAD: Record<string, unknown[]> = {
    username: [123, ['root'], { u: 1 }, null, true, '', 'a b', 'ab', huge(10_001)],
    password: [12345678901234, ['a long enough password'], null, { p: 1 }, 'short', huge(10_001)],
    role: ['boss', 'ADMIN', 1, null, ['admin'], { role: 'admin' }],
    display_name: text200,
    active: ['true', 1, 0, null, [], {}],
    name: [...text200, '', '   '],
    description: [1, [], {}, null, huge(10_001), NUL],
    owner_id: [...id, null],
    project_id: [...id, null],
    title: [...text200, '', '   '],
    assignee_id: id,
    status: ['finished', 'DONE', 1, null, ['done'], {}],
    priority: ['HIGH', 'critical', 2, null, [], {}],
    due_date: [
      '31/12/2026',
      '2026-02-30',
      '2026-13-01',
      '0000-01-01',
      '2026-12-31T00:00:00Z',
      20261231,
      [],
      {},
    ],
  };
  // The login form's own limits: any non-empty string up to 200 (username) and 1024 (password).
  const LOGIN_BAD: Record<string, unknown[]> = {
    username: [123, ['root'], null, {}, true, '', huge(10_001), NUL],
    password: [123, ['x'], null, {}, false, '', huge(10_001)],
  };

  it('malformed JSON, empty bodies, wrong content types and 2 MB bodies', async () => {
    const before = await counts();
    for (const { method, path } of routes()) {
      const send = (body: string | undefined, headers?: Record<string, string>) =>
        h.w.admin.api.send(method, path, body, headers);
      const label = `${method} ${path}`;
      for (const broken of ['{"name": "x",', "{'name':'x'}", '{"title":"x"}}', 'NaN', '   ', '{"a":1,}']) {
        const res = await send(broken);
        expectErrorBody(res, 400, `${label} ${broken}`);
        expect(res.body.error.code).toBe('invalid_json');
      }
      expectErrorBody(await send('', { 'content-type': 'application/json' }), 400, `${label} empty`);
      for (const notAnObject of ['null', '[]', '[{"name":"x"}]', '"text"', '42', 'true']) {
        expect(expectErrorBody(await send(notAnObject), 422, `${label} ${notAnObject}`)).toContain('(body)');
      }
      const json = JSON.stringify({ name: 'x', title: 'x' });
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=b',
        'application/xml',
        '',
      ]) {
        const res = await send(type.startsWith('application/x-www') ? 'name=x&title=x' : json, {
          'content-type': type,
        });
        expectErrorBody(res, 415, `${label} ${type}`);
        expect(res.body.error.code).toBe('unsupported_media_type');
      }
      for (const [type, body] of [
        ['application/json', JSON.stringify({ name: huge(2 * 1024 * 1024), title: 'x' })],
        ['text/plain', huge(2 * 1024 * 1024)],
        ['application/x-www-form-urlencoded', `name=${huge(2 * 1024 * 1024)}`],
      ] as const) {
        const res = await send(body, { 'content-type': type });
        expectErrorBody(res, 413, `${label} 2 MB ${type}`);
        expect(res.body.error.code).toBe('payload_too_large');
      }
    }
    expect(await counts()).toEqual(before);
  });

  it('wrong types, nulls, huge strings and NUL characters: 422 naming the field', async () => {
    const before = await counts();
    let checked = 0;
    for (const { method, path, valid } of routes()) {
      const table = path === '/api/auth/login' ? LOGIN_BAD : BAD;
      for (const field of Object.keys(valid)) {
        for (const bad of table[field]!) {
          const body = { ...valid, [field]: bad };
          const label = `${method} ${path} ${field}=${JSON.stringify(bad).slice(0, 40)}`;
          expect(expectErrorBody(await h.w.admin.api.send(method, path, body), 422, label), label).toContain(
            field,
          );
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(200);
    expect(await counts()).toEqual(before);
  });

  it('several bad fields at once: each one is named', async () => {
    const before = await counts();
    for (const { method, path, valid } of routes()) {
      const table = path === '/api/auth/login' ? LOGIN_BAD : BAD;
      const fields = Object.keys(valid);
      // Every field wrong at once, each with its first bad value.
      const body = Object.fromEntries(fields.map((f) => [f, table[f]![0]]));
      const named = expectErrorBody(await h.w.admin.api.send(method, path, body), 422, `${method} ${path}`);
      for (const field of fields) expect(named, `${method} ${path}`).toContain(field);
    }
    expect(await counts()).toEqual(before);
  });

  it('missing required fields, unknown fields and empty patches', async () => {
    const before = await counts();
    for (const { method, path, valid, required } of routes()) {
      const label = `${method} ${path}`;
      for (const field of required) {
        const { [field]: _dropped, ...rest } = valid as Record<string, unknown>;
        expect(expectErrorBody(await h.w.admin.api.send(method, path, rest), 422, label)).toContain(field);
      }
      if (required.length > 0) {
        const named = expectErrorBody(await h.w.admin.api.send(method, path, {}), 422, label);
        for (const field of required) expect(named, label).toContain(field);
      } else {
        expect(expectErrorBody(await h.w.admin.api.send(method, path, {}), 422, label)).toEqual(['(body)']);
      }
      for (const unknown of ['is_admin', 'password_hash', 'id', 'created_at', '__proto__', 'constructor']) {
        const raw = `${JSON.stringify(valid).slice(0, -1)},"${unknown}":"x"}`;
        expect(
          expectErrorBody(await h.w.admin.api.send(method, path, raw), 422, `${label} ${unknown}`),
        ).toContain(unknown);
      }
      const two = { ...valid, hack: "'; drop table tasks; --", nested: { role: 'admin' } };
      const named = expectErrorBody(await h.w.admin.api.send(method, path, two), 422, label);
      expect(named).toEqual(expect.arrayContaining(['hack', 'nested']));
    }
    expect(await counts()).toEqual(before);
  });

  it('odd ids in paths: GET, PATCH and DELETE', async () => {
    const before = await counts();
    for (const odd of ODD_IDS) {
      for (const resource of ['users', 'projects', 'tasks']) {
        const path = `/api/${resource}/${odd}`;
        const patch = { users: { display_name: 'x' }, projects: { name: 'x' }, tasks: { title: 'x' } }[
          resource
        ];
        for (const res of [
          await h.w.admin.api.get(path),
          await h.w.admin.api.patch(path, patch),
          await h.w.admin.api.delete(path),
          await h.w.managerA.api.get(path),
          await h.w.userA.api.patch(path, { status: 'done' }),
        ]) {
          // An empty id is another route (the list, or no route for PATCH/DELETE).
          if (odd === '' && res.status === 200) continue;
          const named = expectErrorBody(res, undefined, `${path}`);
          if (odd !== '' && res.status === 422) expect(named).toContain('id');
        }
      }
    }
    // An id that is well-formed but names nothing: 404.
    for (const resource of ['users', 'projects', 'tasks']) {
      expectErrorBody(await h.w.admin.api.get(`/api/${resource}/2147483647`), 404);
      expectErrorBody(await h.w.admin.api.delete(`/api/${resource}/2147483647`), 404);
    }
    expectErrorBody(await h.w.admin.api.delete('/api/me/sessions/not-a-uuid'), 422);
    expectErrorBody(await h.w.admin.api.delete(`/api/me/sessions/${'1'.repeat(30)}`), 422);
    expect(await counts()).toEqual(before);
  });

  it('odd values in list filters: ?project_id=&limit=&offset=&sort= and the rest', async () => {
    const before = await counts();
    const filters: Record<string, string[]> = {
      '/api/tasks': ['project_id', 'assignee_id', 'status', 'priority', 'overdue', 'sort', 'limit', 'offset'],
      '/api/projects': ['owner_id', 'sort', 'limit', 'offset'],
      '/api/users': ['role', 'active', 'sort', 'limit', 'offset'],
      '/api/audit': ['actor_id', 'row_id', 'entity', 'limit', 'offset'],
    };
    for (const [list, params] of Object.entries(filters)) {
      for (const param of params) {
        for (const odd of ODD_IDS) {
          if (param === 'offset' && odd === '0') continue; // a fine offset
          const res = await h.w.admin.api.get(`${list}?${param}=${odd}`);
          const named = expectErrorBody(res, 422, `${list}?${param}=${odd}`);
          expect(named).toContain(param);
        }
        // Repeated parameters are not a way around the checks.
        expectErrorBody(
          await h.w.admin.api.get(`${list}?${param}=1&${param}=2`),
          422,
          `${list} twice ${param}`,
        );
      }
      for (const limit of ['201', '1000', '99999']) {
        expect(expectErrorBody(await h.w.admin.api.get(`${list}?limit=${limit}`), 422)).toContain('limit');
      }
      // Free-text search takes anything printable up to 200 characters, but never a NUL.
      for (const q of ["1' OR '1'='1", '%', '_', '\\', '1;drop table users', '%F0%9F%92%A9']) {
        expect((await h.w.admin.api.get(`${list}?q=${encodeURIComponent(q)}`)).status).toBeLessThan(300);
      }
      if (list !== '/api/audit') {
        expect(expectErrorBody(await h.w.admin.api.get(`${list}?q=%00`), 422, `${list}?q=%00`)).toContain(
          'q',
        );
        expect(expectErrorBody(await h.w.admin.api.get(`${list}?q=${huge(201)}`), 422)).toContain('q');
      }
    }
    // As a manager and a user the same checks hold (their scoping comes after validation).
    for (const who of [h.w.managerA, h.w.userA]) {
      for (const odd of ODD_IDS.filter((o) => o !== '')) {
        expectErrorBody(await who.api.get(`/api/tasks?project_id=${odd}`), 422);
        expectErrorBody(await who.api.get(`/api/projects?limit=${odd}`), 422);
      }
    }
    expect(await counts()).toEqual(before);
  });

  it('references to objects that do not exist are 4xx, not 5xx', async () => {
    const before = await counts();
    const missing = 2_000_000_000;
    expectErrorBody(await h.w.admin.api.post('/api/tasks', { project_id: missing, title: 't' }), 404);
    expectErrorBody(
      await h.w.admin.api.post('/api/tasks', {
        project_id: h.w.projectA.id,
        title: 't',
        assignee_id: missing,
      }),
      422,
    );
    expectErrorBody(await h.w.admin.api.post('/api/projects', { name: 'p', owner_id: missing }), 422);
    expectErrorBody(await h.w.admin.api.patch(`/api/tasks/${h.w.taskA.id}`, { project_id: missing }), 404);
    expectErrorBody(await h.w.admin.api.patch(`/api/tasks/${h.w.taskA.id}`, { assignee_id: missing }), 422);
    expectErrorBody(
      await h.w.admin.api.patch(`/api/projects/${h.w.projectA.id}`, { owner_id: missing }),
      422,
    );
    expectErrorBody(await h.w.admin.api.patch(`/api/users/${missing}`, { display_name: 'x' }), 404);
    expect(await counts()).toEqual(before);
  });
});
