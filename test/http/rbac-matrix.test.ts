import { count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projects } from '../../src/db/schema/projects.ts';
import { tasks } from '../../src/db/schema/tasks.ts';
import { users } from '../../src/db/schema/users.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type Client, client, type Reply } from '../support/client.ts';
import { type ContractCheck, validateResponses } from '../support/openapi-contract.ts';
import { makeWorld, PASSWORD, type World } from '../support/world.ts';

/**
 * The access policy of docs/contract.md §4 as one table: every API route × every role × the object it
 * acts on. One `it` per cell; every cell acts on fresh objects, and cells that change the caller
 * themself (logout, PATCH/DELETE of their own account) run as a fresh, separately signed-in
 * caller, so no cell depends on another or on the order they run in.
 *
 * Objects, seen from the caller:
 * - own: users routes: the caller's own account. Projects: a project owned by the caller when
 *   they are a manager (else by manager `mara`), holding a task assigned to the caller when they
 *   are a user (else to `ursula`). Tasks: that task. `POST /api/tasks`: into that project.
 * - other: users routes: some other user. Projects/tasks: a project of manager `mbeck` with a
 *   task assigned to `ulrich`; the caller neither owns nor is assigned anything in it.
 * - missing: an id no row has (answers must not differ from `other` when that is invisible).
 * - none: the route takes no object.
 */
type Role = 'anonymous' | 'admin' | 'manager' | 'user';
type Target = 'own' | 'other' | 'missing' | 'none';
type Body = '-' | 'new user' | 'new project' | 'new task' | 'display_name' | 'name' | 'status' | 'title';
type Row = [
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  body: Body,
  object: Target,
  anonymous: number,
  admin: number,
  manager: number,
  user: number,
];

// biome-ignore format: the policy reads best as an aligned table
const MATRIX: Row[] = [
  // method  path                      body            object     anon adm  mgr  user
  ['POST',   '/api/auth/logout',       '-',            'none',    401, 204, 204, 204],
  ['GET',    '/api/me',                '-',            'none',    401, 200, 200, 200],
  ['GET',    '/api/me/sessions',       '-',            'none',    401, 200, 200, 200],

  ['GET',    '/api/users',             '-',            'none',    401, 200, 200, 403],
  ['POST',   '/api/users',             'new user',     'none',    401, 201, 403, 403],
  ['GET',    '/api/users/:id',         '-',            'own',     401, 200, 200, 403],
  ['GET',    '/api/users/:id',         '-',            'other',   401, 200, 200, 403],
  ['GET',    '/api/users/:id',         '-',            'missing', 401, 404, 404, 403],
  ['PATCH',  '/api/users/:id',         'display_name', 'own',     401, 200, 403, 403],
  ['PATCH',  '/api/users/:id',         'display_name', 'other',   401, 200, 403, 403],
  ['PATCH',  '/api/users/:id',         'display_name', 'missing', 401, 404, 403, 403],
  ['DELETE', '/api/users/:id',         '-',            'own',     401, 409, 403, 403],
  ['DELETE', '/api/users/:id',         '-',            'other',   401, 204, 403, 403],
  ['DELETE', '/api/users/:id',         '-',            'missing', 401, 404, 403, 403],

  ['GET',    '/api/projects',          '-',            'none',    401, 200, 200, 200],
  ['POST',   '/api/projects',          'new project',  'none',    401, 201, 201, 403],
  ['GET',    '/api/projects/:id',      '-',            'own',     401, 200, 200, 200],
  ['GET',    '/api/projects/:id',      '-',            'other',   401, 200, 404, 404],
  ['GET',    '/api/projects/:id',      '-',            'missing', 401, 404, 404, 404],
  ['PATCH',  '/api/projects/:id',      'name',         'own',     401, 200, 200, 403],
  ['PATCH',  '/api/projects/:id',      'name',         'other',   401, 200, 404, 404],
  ['PATCH',  '/api/projects/:id',      'name',         'missing', 401, 404, 404, 404],
  ['DELETE', '/api/projects/:id',      '-',            'own',     401, 204, 204, 403],
  ['DELETE', '/api/projects/:id',      '-',            'other',   401, 204, 404, 404],
  ['DELETE', '/api/projects/:id',      '-',            'missing', 401, 404, 404, 404],

  ['GET',    '/api/tasks',             '-',            'none',    401, 200, 200, 200],
  ['POST',   '/api/tasks',             'new task',     'own',     401, 201, 201, 403],
  ['POST',   '/api/tasks',             'new task',     'other',   401, 201, 404, 404],
  ['POST',   '/api/tasks',             'new task',     'missing', 401, 404, 404, 404],
  ['GET',    '/api/tasks/:id',         '-',            'own',     401, 200, 200, 200],
  ['GET',    '/api/tasks/:id',         '-',            'other',   401, 200, 404, 404],
  ['GET',    '/api/tasks/:id',         '-',            'missing', 401, 404, 404, 404],
  ['PATCH',  '/api/tasks/:id',         'status',       'own',     401, 200, 200, 200],
  ['PATCH',  '/api/tasks/:id',         'title',        'own',     401, 200, 200, 403],
  ['PATCH',  '/api/tasks/:id',         'status',       'other',   401, 200, 404, 404],
  ['PATCH',  '/api/tasks/:id',         'title',        'other',   401, 200, 404, 404],
  ['PATCH',  '/api/tasks/:id',         'status',       'missing', 401, 404, 404, 404],
  ['DELETE', '/api/tasks/:id',         '-',            'own',     401, 204, 204, 403],
  ['DELETE', '/api/tasks/:id',         '-',            'other',   401, 204, 404, 404],
  ['DELETE', '/api/tasks/:id',         '-',            'missing', 401, 404, 404, 404],

  ['GET',    '/api/metrics',           '-',            'none',    401, 200, 200, 200],
  ['GET',    '/api/audit',             '-',            'none',    401, 200, 403, 403],
];

const ROLES: Role[] = ['anonymous', 'admin', 'manager', 'user'];
/** An id no row has (ids are int4 identities starting at 1). */
const MISSING_ID = 2_000_000_000;
/** The error code each refusal must carry. */
const CODE: Record<number, string> = {
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
};

const cells = MATRIX.flatMap(([method, path, body, object, ...expected]) =>
  ROLES.map((role, i) => ({
    name: `${method} ${path}${body === '-' ? '' : ` {${body}}`} [${object}] as ${role} → ${expected[i]}`,
    method,
    path,
    body,
    object,
    role,
    status: expected[i]!,
  })),
);
type Cell = (typeof cells)[number];

/** What an `own` GET answers, per resource and role: the list routes must agree with it. */
const expected = (path: string, object: Target, role: Role) =>
  MATRIX.find(([m, p, , o]) => m === 'GET' && p === path && o === object)![4 + ROLES.indexOf(role)];

describe('RBAC matrix (docs/contract.md §4): route × role × object, exact status', () => {
  let ctx: TestApp;
  let w: World;
  let hash: string;
  let serial = 0;
  type Caller = { id: number | undefined; api: Client };
  /** One caller per role for the cells that do not change the caller (signing in costs an argon2 verify). */
  const callers = {} as Record<Role, Caller>;

  let contract: ContractCheck;
  beforeAll(async () => {
    ctx = await startTestApp('pglite');
    contract = await validateResponses(ctx);
    w = await makeWorld(ctx);
    // Everyone in the world shares PASSWORD: reuse one hash to make fresh callers without argon2 hashing.
    const [row] = await ctx.database.db
      .select({ hash: users.password_hash })
      .from(users)
      .where(eq(users.id, w.userA.id));
    hash = row!.hash;
    for (const role of ROLES) callers[role] = await signedIn(role, 'shared');
  });
  afterAll(async () => {
    await ctx?.close();
    // The check ran on this file's responses, not on none of them.
    expect(contract.validated).toBeGreaterThan(200);
  });

  /** A new signed-in person of this role (anonymous: no token). */
  async function signedIn(role: Role, n: number | string): Promise<Caller> {
    if (role === 'anonymous') return { id: undefined, api: client(ctx) };
    const [row] = await ctx.database.db
      .insert(users)
      .values({ username: `${role}-${n}`, password_hash: hash, role })
      .returning();
    const login = await client(ctx).post('/api/auth/login', { username: row!.username, password: PASSWORD });
    if (login.status !== 200) throw new Error(`login failed: ${login.text}`);
    return { id: row!.id, api: client(ctx, login.body.token) };
  }

  /** Fresh objects for one cell, inserted directly through drizzle (see the object legend above). */
  async function freshWorld(role: Role, n: number, ownCaller = false) {
    const { db } = ctx.database;
    const caller = ownCaller ? await signedIn(role, n) : callers[role];
    const tag = `#${n}#`;
    const [someone] = await db
      .insert(users)
      .values({ username: `someone-${n}`, password_hash: hash })
      .returning();
    const [ownProject] = await db
      .insert(projects)
      .values({ name: `Own ${tag}`, owner_id: role === 'manager' ? caller.id! : w.managerA.id })
      .returning();
    const [otherProject] = await db
      .insert(projects)
      .values({ name: `Other ${tag}`, owner_id: w.managerB.id })
      .returning();
    const [ownTask] = await db
      .insert(tasks)
      .values({
        project_id: ownProject!.id,
        title: `Own task ${tag}`,
        assignee_id: role === 'user' ? caller.id! : w.userA.id,
      })
      .returning();
    const [otherTask] = await db
      .insert(tasks)
      .values({ project_id: otherProject!.id, title: `Other task ${tag}`, assignee_id: w.userB.id })
      .returning();
    return {
      n,
      tag,
      caller,
      users: { own: caller.id, other: someone!.id },
      projects: { own: ownProject!.id, other: otherProject!.id },
      tasks: { own: ownTask!.id, other: otherTask!.id },
    };
  }
  type Fresh = Awaited<ReturnType<typeof freshWorld>>;

  const TABLES = { users, projects, tasks } as const;
  type Resource = keyof typeof TABLES;
  const resourceOf = (path: string) => path.split('/')[2] as Resource;

  /** The id a cell acts on, for `/:id` routes and for `POST /api/tasks`'s project. */
  function objectId(cell: Cell, f: Fresh): number | undefined {
    if (cell.object === 'none') return undefined;
    if (cell.object === 'missing') return MISSING_ID;
    const resource = cell.path === '/api/tasks' ? 'projects' : resourceOf(cell.path);
    return f[resource][cell.object];
  }

  function payload(body: Body, f: Fresh, id: number | undefined): unknown {
    switch (body) {
      case '-':
        return undefined;
      case 'new user':
        return { username: `created-${f.n}`, password: 'a long and unguessable passphrase', role: 'user' };
      case 'new project':
        return { name: `Created ${f.tag}` };
      case 'new task':
        return { project_id: id, title: `Created ${f.tag}` };
      case 'display_name':
        return { display_name: `Renamed ${f.tag}` };
      case 'name':
        return { name: `Renamed ${f.tag}` };
      case 'status':
        return { status: 'in_progress' };
      case 'title':
        return { title: `Renamed ${f.tag}` };
    }
  }

  async function rowOf(resource: Resource, id: number) {
    const table = TABLES[resource];
    const [row] = await ctx.database.db.select().from(table).where(eq(table.id, id));
    return row;
  }
  async function countOf(resource: Resource) {
    const [row] = await ctx.database.db.select({ n: count() }).from(TABLES[resource]);
    return row!.n;
  }

  const send = (api: Client, cell: Cell, f: Fresh, id: number | undefined): Promise<Reply> =>
    api.send(
      cell.method,
      cell.path.replace(':id', String(id)),
      payload(cell.body, f, cell.path === '/api/tasks' ? id : undefined),
    );

  it.each(cells)('$name', async (cell) => {
    const changesCaller =
      cell.path === '/api/auth/logout' || (cell.path === '/api/users/:id' && cell.method !== 'GET');
    const f = await freshWorld(cell.role, ++serial, changesCaller);
    const id = objectId(cell, f);
    const resource = resourceOf(cell.path);
    const before = cell.path.endsWith(':id') && id !== undefined ? await rowOf(resource, id) : undefined;
    const rowsBefore = cell.method === 'POST' && resource in TABLES ? await countOf(resource) : 0;

    const res = await send(f.caller.api, cell, f, id);
    expect(res.status, res.text).toBe(cell.status);
    const ok = res.status < 300;
    if (!ok) expect(res.body.error.code).toBe(CODE[res.status]);

    // The answer matches the effect: a refused request changed nothing, an accepted one did.
    if (cell.path.endsWith(':id') && cell.method !== 'GET' && cell.object !== 'missing') {
      const after = await rowOf(resource, id!);
      if (!ok) expect(after).toEqual(before);
      else if (cell.method === 'DELETE') expect(after).toBeUndefined();
      else expect(after).not.toEqual(before);
    }
    if (cell.method === 'POST' && cell.path !== '/api/auth/logout') {
      expect(await countOf(resource)).toBe(rowsBefore + (ok ? 1 : 0));
    }
    if (cell.path === '/api/auth/logout' && ok) {
      expect((await f.caller.api.get('/api/me')).status).toBe(401);
    }
    if (cell.path === '/api/me' && ok) expect(res.body.id).toBe(f.caller.id);

    // A list shows exactly what the single-object GET of the same table shows, no more.
    if ((cell.path === '/api/projects' || cell.path === '/api/tasks') && cell.method === 'GET' && ok) {
      const listed = await f.caller.api.get(`${cell.path}?q=${encodeURIComponent(f.tag)}`);
      const ids = listed.body.items.map((item: { id: number }) => item.id);
      const mine = f[resource as 'projects' | 'tasks'];
      const shown = (object: Target) => expected(`${cell.path}/:id`, object, cell.role) === 200;
      expect(ids.includes(mine.own)).toBe(shown('own'));
      expect(ids.includes(mine.other)).toBe(shown('other'));
      expect(listed.body.total).toBe(ids.length);
    }

    // Existence does not leak: an invisible object answers exactly as an id that does not exist.
    if (cell.object === 'other' && res.status === 404) {
      const absent = await send(f.caller.api, cell, f, MISSING_ID);
      expect(absent.status).toBe(404);
      expect(res.body).toEqual(absent.body);
      expect(res.headers.get('content-type')).toBe(absent.headers.get('content-type'));
    }
  });

  it('answers every 404 for an invisible object with the very body of a missing id', async () => {
    // As in the cells, but byte for byte, for each method and for a task aimed at a hidden project.
    const user = await freshWorld('user', ++serial);
    const manager = await freshWorld('manager', ++serial);
    for (const f of [user, manager]) {
      for (const [resource, patch] of [
        ['projects', { name: 'Renamed' }],
        ['tasks', { status: 'done' }],
      ] as const) {
        for (const method of ['GET', 'PATCH', 'DELETE']) {
          const body = method === 'PATCH' ? patch : undefined;
          const hidden = await f.caller.api.send(method, `/api/${resource}/${f[resource].other}`, body);
          const absent = await f.caller.api.send(method, `/api/${resource}/${MISSING_ID}`, body);
          expect(hidden.status, `${method} ${resource}`).toBe(404);
          expect(hidden.text, `${method} ${resource}`).toBe(absent.text);
        }
      }
      const into = (project: number) => ({ project_id: project, title: 'Sneaked in' });
      const hidden = await f.caller.api.post('/api/tasks', into(f.projects.other));
      const absent = await f.caller.api.post('/api/tasks', into(MISSING_ID));
      expect(hidden.status).toBe(404);
      expect(hidden.text).toBe(absent.text);
    }
    // Nothing invisible was touched by those attempts.
    const { db } = ctx.database;
    for (const f of [user, manager]) {
      const [project] = await db.select().from(projects).where(eq(projects.id, f.projects.other));
      const [task] = await db.select().from(tasks).where(eq(tasks.id, f.tasks.other));
      expect(project?.name).toBe(`Other ${f.tag}`);
      expect(task?.status).toBe('todo');
    }
  });
});
