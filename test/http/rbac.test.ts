import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projects } from '../../src/db/schema/projects.js';
import { tasks } from '../../src/db/schema/tasks.js';
import { users } from '../../src/db/schema/users.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { client } from '../support/client.js';
import { makeWorld, PASSWORD, type World } from '../support/world.js';

type Role = 'anonymous' | 'admin' | 'manager' | 'user';
/** Expected status for [anonymous, admin, manager, user]. */
type Row = [
  method: string,
  path: string,
  object: 'own' | 'other' | '-',
  body: unknown,
  expected: [number, number, number, number],
];

/**
 * The access policy of DESIGN §4 as one table. "own" objects: a project of the manager (mara)
 * holding a task assigned to the user (ursula); "other": another manager's project and task,
 * assigned to someone else. Each cell runs on fresh objects, so cells cannot affect each other.
 */
const MATRIX: Row[] = [
  ['GET', '/api/me', '-', undefined, [401, 200, 200, 200]],
  ['GET', '/api/me/sessions', '-', undefined, [401, 200, 200, 200]],
  ['POST', '/api/auth/logout', '-', undefined, [401, 204, 204, 204]],
  ['GET', '/api/users', '-', undefined, [401, 200, 200, 403]],
  ['POST', '/api/users', '-', 'newUser', [401, 201, 403, 403]],
  ['GET', '/api/users/:user', 'other', undefined, [401, 200, 200, 403]],
  ['PATCH', '/api/users/:user', 'other', { display_name: 'Renamed' }, [401, 200, 403, 403]],
  ['DELETE', '/api/users/:user', 'other', undefined, [401, 204, 403, 403]],
  ['GET', '/api/projects', '-', undefined, [401, 200, 200, 200]],
  ['POST', '/api/projects', '-', { name: 'New project' }, [401, 201, 201, 403]],
  ['GET', '/api/projects/:project', 'own', undefined, [401, 200, 200, 200]],
  ['GET', '/api/projects/:project', 'other', undefined, [401, 200, 404, 404]],
  ['PATCH', '/api/projects/:project', 'own', { name: 'Renamed' }, [401, 200, 200, 403]],
  ['PATCH', '/api/projects/:project', 'other', { name: 'Renamed' }, [401, 200, 404, 404]],
  ['DELETE', '/api/projects/:project', 'own', undefined, [401, 204, 204, 403]],
  ['DELETE', '/api/projects/:project', 'other', undefined, [401, 204, 404, 404]],
  ['GET', '/api/tasks', '-', undefined, [401, 200, 200, 200]],
  ['POST', '/api/tasks', 'own', 'newTask', [401, 201, 201, 403]],
  ['POST', '/api/tasks', 'other', 'newTask', [401, 201, 404, 404]],
  ['GET', '/api/tasks/:task', 'own', undefined, [401, 200, 200, 200]],
  ['GET', '/api/tasks/:task', 'other', undefined, [401, 200, 404, 404]],
  ['PATCH', '/api/tasks/:task', 'own', { status: 'in_progress' }, [401, 200, 200, 200]],
  ['PATCH', '/api/tasks/:task', 'own', { title: 'Renamed' }, [401, 200, 200, 403]],
  ['PATCH', '/api/tasks/:task', 'other', { status: 'in_progress' }, [401, 200, 404, 404]],
  ['DELETE', '/api/tasks/:task', 'own', undefined, [401, 204, 204, 403]],
  ['DELETE', '/api/tasks/:task', 'other', undefined, [401, 204, 404, 404]],
  ['GET', '/api/metrics', '-', undefined, [401, 200, 200, 200]],
  ['GET', '/api/audit', '-', undefined, [401, 200, 403, 403]],
];

const ROLES: Role[] = ['anonymous', 'admin', 'manager', 'user'];
const cells = MATRIX.flatMap(([method, path, object, body, expected]) =>
  ROLES.map((role, i) => ({ method, path, object, body, role, status: expected[i]! })),
);

describe('RBAC matrix: every route × role × own/other object', () => {
  let ctx: TestApp;
  let w: World;
  let hash: string;
  let serial = 0;
  beforeAll(async () => {
    ctx = await startTestApp('pglite');
    w = await makeWorld(ctx);
    const [row] = await ctx.database.db.select({ hash: users.password_hash }).from(users).limit(1);
    hash = row!.hash;
  });
  afterAll(() => ctx?.close());

  /** Fresh objects for one cell, inserted directly (no API, no argon2). */
  async function fresh() {
    const { db } = ctx.database;
    const n = ++serial;
    const [someone] = await db
      .insert(users)
      .values({ username: `target${n}`, password_hash: hash })
      .returning();
    const [own] = await db
      .insert(projects)
      .values({ name: `Own ${n}`, owner_id: w.managerA.id })
      .returning();
    const [other] = await db
      .insert(projects)
      .values({ name: `Other ${n}`, owner_id: w.managerB.id })
      .returning();
    const [ownTask] = await db
      .insert(tasks)
      .values({ project_id: own!.id, title: `Own task ${n}`, assignee_id: w.userA.id })
      .returning();
    const [otherTask] = await db
      .insert(tasks)
      .values({ project_id: other!.id, title: `Other task ${n}`, assignee_id: w.userB.id })
      .returning();
    return {
      n,
      user: someone!.id,
      own: { project: own!.id, task: ownTask!.id },
      other: { project: other!.id, task: otherTask!.id },
    };
  }

  /** A fresh sign-in per cell, so that logging out in one cell cannot affect another. */
  async function caller(role: Role) {
    if (role === 'anonymous') return client(ctx);
    const username = { admin: 'root', manager: 'mara', user: 'ursula' }[role];
    const login = await client(ctx).post('/api/auth/login', { username, password: PASSWORD });
    return client(ctx, login.body.token);
  }

  it.each(cells)(
    '$method $path ($object) as $role → $status',
    async ({ method, path, object, body, role, status }) => {
      const f = await fresh();
      const target = object === 'other' ? f.other : f.own;
      const url = path
        .replace(':user', String(f.user))
        .replace(':project', String(target.project))
        .replace(':task', String(target.task));
      const payload =
        body === 'newUser'
          ? { username: `created${f.n}`, password: 'a long enough password', role: 'user' }
          : body === 'newTask'
            ? { project_id: target.project, title: 'Created in the matrix' }
            : body;
      const res = await (await caller(role)).send(method, url, payload);
      expect(res.status).toBe(status);
      if (status >= 400) expect(res.body.error.code).toMatch(/^[a-z_]+$/);
    },
  );

  it('answers an invisible object exactly as a missing one, so existence does not leak', async () => {
    const f = await fresh();
    for (const [visible, missing] of [
      [`/api/projects/${f.other.project}`, '/api/projects/2000000000'],
      [`/api/tasks/${f.other.task}`, '/api/tasks/2000000000'],
    ] as const) {
      const hidden = await w.userA.api.get(visible);
      const absent = await w.userA.api.get(missing);
      expect(hidden.status).toBe(404);
      expect(hidden.body).toEqual(absent.body);
    }
  });
});
