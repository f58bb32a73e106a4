import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tasks as tasksTable } from '../../src/db/schema/tasks.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { type Client, client, ORIGIN, type Reply } from '../support/client.js';
import { expectErrorBody } from '../support/errors.js';
import { type ContractCheck, validateResponses } from '../support/openapi-contract.js';
import { makeWorld, PASSWORD, type World } from '../support/world.js';

/**
 * docs/contract.md §4, the whole JSON API contract, end to end over HTTP (app.request), on in-memory
 * PGlite, real PostgreSQL and the Neon serverless driver (through the local relay).
 * Every test asserts the status and the body a client would see.
 */

const USER_KEYS = ['active', 'created_at', 'display_name', 'id', 'role', 'updated_at', 'username'];
const PROJECT_KEYS = ['created_at', 'description', 'id', 'name', 'owner_id', 'updated_at'];
const TASK_KEYS = [
  'assignee_id',
  'completed_at',
  'created_at',
  'description',
  'due_date',
  'id',
  'priority',
  'project_id',
  'status',
  'title',
  'updated_at',
];
const STATUS_KEYS = ['blocked', 'done', 'in_progress', 'todo'];
/** The password of every user these tests create through the API. */
const SECRET = 'a perfectly long passphrase';
const FOREIGN = 'http://evil.example';
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The error body of docs/contract.md §4 (test/support/errors.ts) with this status and code. */
function expectError(res: Reply, status: number, code: string) {
  expectErrorBody(res, status);
  expect(res.body.error.code).toBe(code);
}

/** A 422 whose details name the given fields (and maybe others). */
function expectInvalid(res: Reply, ...fields: string[]) {
  expectError(res, 422, 'validation_failed');
  const named = (res.body.error.details as { field: string }[]).map((d) => d.field);
  for (const field of fields) expect(named).toContain(field);
}

const sorted = (keys: Iterable<string>) => [...keys].sort();
const titles = (res: Reply) => res.body.items.map((t: { title: string }) => t.title);
const ids = (res: Reply) => res.body.items.map((x: { id: number }) => x.id);

describe.each(['pglite', 'pg', 'neon'] as const)('JSON API contract over HTTP on %s', (driver) => {
  let ctx: TestApp;
  let w: World;
  let contract: ContractCheck;
  beforeAll(async () => {
    ctx = await startTestApp(driver, { limits: { perUsername: 3, perAddress: 100, windowSeconds: 60 } });
    // Every response below is also checked against the OpenAPI document (test/support/openapi-contract.ts).
    contract = await validateResponses(ctx);
    w = await makeWorld(ctx);
  });
  afterAll(async () => {
    await ctx?.close();
    // The check ran on the responses of this file, not on none of them.
    expect(contract.validated).toBeGreaterThan(250);
  });

  const anon = () => client(ctx);
  const login = (username: string, password: string) =>
    client(ctx).post('/api/auth/login', { username, password });
  /** Signs in and answers an API client carrying the new bearer token. */
  const signIn = async (username: string, password = SECRET): Promise<Client> => {
    const res = await login(username, password);
    expect(res.status, res.text).toBe(200);
    return client(ctx, res.body.token);
  };
  /** An admin creates a user through the API. */
  const newUser = async (username: string, role: 'admin' | 'manager' | 'user', display_name?: string) => {
    const res = await w.admin.api.post('/api/users', {
      username,
      password: SECRET,
      role,
      ...(display_name === undefined ? {} : { display_name }),
    });
    expect(res.status, res.text).toBe(201);
    return res.body as { id: number; username: string };
  };
  const newTask = async (api: Client, body: Record<string, unknown>) => {
    const res = await api.post('/api/tasks', body);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: number; title: string; completed_at: string | null };
  };

  describe('auth', () => {
    it('POST /api/auth/login answers {token, expires_at, user}, never a password or hash', async () => {
      const before = Date.now();
      const res = await login('ursula', PASSWORD);
      expect(res.status).toBe(200);
      expect(sorted(Object.keys(res.body))).toEqual(['expires_at', 'token', 'user']);
      expect(res.body.token).toEqual(expect.any(String));
      expect(res.body.token.length).toBeGreaterThan(20);
      expect(res.body.expires_at).toMatch(ISO_INSTANT);
      const expires = Date.parse(res.body.expires_at);
      expect(expires).toBeGreaterThan(before);
      // startTestApp signs tokens for an hour.
      expect(expires).toBeLessThanOrEqual(Date.now() + 3600_000 + 1000);
      expect(sorted(Object.keys(res.body.user))).toEqual(USER_KEYS);
      expect(res.body.user).toMatchObject({ id: w.userA.id, username: 'ursula', role: 'user', active: true });
      expect(res.text.replace(res.body.token, '')).not.toMatch(/password|hash|argon/i);
      // The token is what the API accepts, and /api/me answers the same user.
      const me = await client(ctx, res.body.token).get('/api/me');
      expect(me.status).toBe(200);
      expect(me.body).toEqual(res.body.user);
    });

    it('answers 401 invalid_credentials alike for a wrong password and an unknown user', async () => {
      const wrong = await login('ulrich', 'not the right password');
      expectError(wrong, 401, 'invalid_credentials');
      const unknown = await login('nobody-at-all', 'not the right password');
      expectError(unknown, 401, 'invalid_credentials');
      expect(unknown.body).toEqual(wrong.body);
      expect(wrong.text).not.toContain('token');
      // A malformed sign-in is a validation failure naming the missing field.
      expectInvalid(await anon().post('/api/auth/login', { username: 'ulrich' }), 'password');
    });

    it('logout answers 204, then that token is refused (401) while other sign-ins stay', async () => {
      const first = await signIn('ursula', PASSWORD);
      const second = await signIn('ursula', PASSWORD);
      const out = await first.post('/api/auth/logout');
      expect(out.status).toBe(204);
      expect(out.text).toBe('');
      expectError(await first.get('/api/me'), 401, 'unauthenticated');
      expectError(await first.get('/api/tasks'), 401, 'unauthenticated');
      expectError(await first.post('/api/auth/logout'), 401, 'unauthenticated');
      expect((await second.get('/api/me')).status).toBe(200);
      // No token at all, or a forged one, is 401 too.
      expectError(await anon().get('/api/me'), 401, 'unauthenticated');
      expectError(await client(ctx, 'not.a.token').get('/api/me'), 401, 'unauthenticated');
    });

    it('a deactivated user is refused on their very next request, and at sign-in with 403 account_deactivated', async () => {
      const dora = await newUser('dora', 'user');
      const api = await signIn('dora');
      expect((await api.get('/api/me')).body.active).toBe(true);
      const off = await w.admin.api.patch(`/api/users/${dora.id}`, { active: false });
      expect(off.status).toBe(200);
      expect(off.body).toMatchObject({ id: dora.id, active: false });
      expectError(await api.get('/api/me'), 401, 'unauthenticated');
      expectError(await api.get('/api/metrics'), 401, 'unauthenticated');
      expectError(await login('dora', SECRET), 403, 'account_deactivated');
      // Without the right password, nothing is revealed about the account.
      expectError(await login('dora', 'a wrong password here'), 401, 'invalid_credentials');
      // Reactivated, they can sign in again.
      expect((await w.admin.api.patch(`/api/users/${dora.id}`, { active: true })).body.active).toBe(true);
      expect((await login('dora', SECRET)).status).toBe(200);
    });

    it('a role change applies to the very next request, both ways', async () => {
      // A user promoted to manager can create projects at once.
      const promo = await newUser('promo', 'user');
      const api = await signIn('promo');
      expectError(await api.post('/api/projects', { name: 'Before promotion' }), 403, 'forbidden');
      expectError(await api.get('/api/users'), 403, 'forbidden');
      const up = await w.admin.api.patch(`/api/users/${promo.id}`, { role: 'manager' });
      expect(up.status).toBe(200);
      expect(up.body.role).toBe('manager');
      const created = await api.post('/api/projects', { name: 'After promotion' });
      expect(created.status).toBe(201);
      expect(created.body.owner_id).toBe(promo.id);
      expect((await api.get('/api/me')).body.role).toBe('manager');
      expect((await api.get('/api/users')).status).toBe(200);
      const doc = (await api.get('/api/metrics')).body;
      expect(doc.role).toBe('manager');
      expect(doc.projects[created.body.id]).toEqual({ name: 'After promotion', done: 0, total: 0 });
      // A manager who owns projects cannot be demoted: 409, and nothing changes.
      expectError(await w.admin.api.patch(`/api/users/${promo.id}`, { role: 'user' }), 409, 'conflict');
      expect((await api.get('/api/me')).body.role).toBe('manager');

      // A manager without projects can be demoted, and loses manager rights on the next request.
      const free = await newUser('mfree', 'manager');
      const freeApi = await signIn('mfree');
      expect((await freeApi.get('/api/users')).status).toBe(200);
      const down = await w.admin.api.patch(`/api/users/${free.id}`, { role: 'user' });
      expect(down.status).toBe(200);
      expect(down.body.role).toBe('user');
      expectError(await freeApi.get('/api/users'), 403, 'forbidden');
      expectError(await freeApi.post('/api/projects', { name: 'Too late' }), 403, 'forbidden');
      const userDoc = (await freeApi.get('/api/metrics')).body;
      expect(userDoc.role).toBe('user');
      expect(userDoc.team_tasks).toBeUndefined();
    });

    it("a deleted user's token answers 401, and they can no longer sign in", async () => {
      const gone = await newUser('gone', 'user');
      const api = await signIn('gone');
      expect((await api.get('/api/me')).status).toBe(200);
      const del = await w.admin.api.delete(`/api/users/${gone.id}`);
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expectError(await api.get('/api/me'), 401, 'unauthenticated');
      expectError(await login('gone', SECRET), 401, 'invalid_credentials');
    });
  });

  describe('throttling', () => {
    it('after 3 failures the 4th attempt answers 429 rate_limited with Retry-After, even with the right password', async () => {
      await newUser('target', 'user');
      for (let i = 1; i <= 3; i++) {
        expectError(await login('target', `wrong password number ${i}`), 401, 'invalid_credentials');
      }
      const locked = await login('target', SECRET);
      expectError(locked, 429, 'rate_limited');
      const retry = locked.headers.get('retry-after');
      expect(retry).toMatch(/^\d+$/);
      expect(Number(retry)).toBeGreaterThan(0);
      expect(Number(retry)).toBeLessThanOrEqual(60);
      expect(locked.text).not.toContain('token');
      // The lock is on the username whatever its case; other users sign in as usual.
      expectError(await login('TARGET', SECRET), 429, 'rate_limited');
      expect((await login('ursula', PASSWORD)).status).toBe(200);
    });
  });

  describe('browser cookie flow', () => {
    const form = (fields: Record<string, string>, headers: Record<string, string> = { origin: ORIGIN }) =>
      ctx.app.request(`${ORIGIN}/login`, {
        method: 'POST',
        headers: { host: 'portal.test', 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body: new URLSearchParams(fields).toString(),
      });
    const cookieOf = (res: Response) => {
      const header = res.headers.get('set-cookie') ?? '';
      const token = /portal_session=([^;]*)/.exec(header)?.[1];
      return { header, cookie: `portal_session=${token}`, token };
    };

    it('POST /login answers 303 with an HttpOnly SameSite=Lax portal_session cookie that /api accepts', async () => {
      const res = await form({ username: 'ursula', password: PASSWORD });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/dashboard');
      const { header, cookie, token } = cookieOf(res);
      expect(token).toBeTruthy();
      expect(header).toMatch(/;\s*HttpOnly/i);
      expect(header).toMatch(/;\s*SameSite=Lax/i);
      expect(header).toMatch(/;\s*Path=\//i);
      // Plain HTTP here; behind an HTTPS proxy the cookie is Secure.
      expect(header).not.toMatch(/;\s*Secure/i);
      const me = await anon().get('/api/me', { cookie });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: w.userA.id, username: 'ursula' });
      const https = await form(
        { username: 'ursula', password: PASSWORD },
        { origin: ORIGIN, 'x-forwarded-proto': 'https' },
      );
      expect(https.status).toBe(303);
      expect(cookieOf(https).header).toMatch(/;\s*Secure/i);
    });

    it('cookie-authenticated POST/PATCH/DELETE need this portal’s Origin: 403 forbidden_origin otherwise', async () => {
      const { cookie } = cookieOf(await form({ username: 'mara', password: PASSWORD }));
      const api = anon();
      // Safe requests need no Origin.
      expect((await api.get('/api/projects', { cookie, origin: FOREIGN })).status).toBe(200);

      const body = { project_id: w.projectA.id, title: 'Cookie task' };
      for (const origin of [{ origin: FOREIGN }, {}, { origin: 'null' }] as Record<string, string>[]) {
        expectError(await api.post('/api/tasks', body, { cookie, ...origin }), 403, 'forbidden_origin');
      }
      // Whatever the content type.
      expectError(
        await api.post('/api/tasks', JSON.stringify(body), {
          cookie,
          origin: FOREIGN,
          'content-type': 'text/plain',
        }),
        403,
        'forbidden_origin',
      );
      const created = await api.post('/api/tasks', body, { cookie, origin: ORIGIN });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({ title: 'Cookie task', project_id: w.projectA.id });
      const url = `/api/tasks/${created.body.id}`;
      // Only the one task was created: the refused requests wrote nothing.
      const listed = await w.managerA.api.get(`/api/tasks?project_id=${w.projectA.id}&q=Cookie%20task`);
      expect(listed.body.total).toBe(1);

      expectError(
        await api.patch(url, { title: 'Renamed from afar' }, { cookie, origin: FOREIGN }),
        403,
        'forbidden_origin',
      );
      expectError(await api.patch(url, { title: 'No origin' }, { cookie }), 403, 'forbidden_origin');
      expect((await w.managerA.api.get(url)).body.title).toBe('Cookie task');
      const patched = await api.patch(url, { title: 'Renamed at home' }, { cookie, origin: ORIGIN });
      expect(patched.status).toBe(200);
      expect(patched.body.title).toBe('Renamed at home');

      expectError(await api.delete(url, { cookie, origin: FOREIGN }), 403, 'forbidden_origin');
      expectError(await api.delete(url, { cookie }), 403, 'forbidden_origin');
      expect((await w.managerA.api.get(url)).status).toBe(200);
      const deleted = await api.delete(url, { cookie, origin: ORIGIN });
      expect(deleted.status).toBe(204);
      expectError(await w.managerA.api.get(url), 404, 'not_found');

      // The same token as a bearer needs no Origin (API clients are not browsers).
      const token = cookie.slice('portal_session='.length);
      expect((await client(ctx, token).post('/api/tasks', { ...body, title: 'Bearer task' })).status).toBe(
        201,
      );
    });

    it('POST /login from another site (or with no Origin) is 403 and sets no cookie', async () => {
      for (const headers of [{ origin: FOREIGN }, {} as Record<string, string>]) {
        const res = await form({ username: 'ursula', password: PASSWORD }, headers);
        expect(res.status).toBe(403);
        expect(res.headers.get('set-cookie')).toBeNull();
        expect((await res.json()).error.code).toBe('forbidden_origin');
      }
    });

    it('POST /logout with the cookie revokes it; from another site it is refused and revokes nothing', async () => {
      const { cookie } = cookieOf(await form({ username: 'ulrich', password: PASSWORD }));
      const logout = (origin?: string) =>
        ctx.app.request(`${ORIGIN}/logout`, {
          method: 'POST',
          headers: { host: 'portal.test', cookie, ...(origin ? { origin } : {}) },
        });
      const foreign = await logout(FOREIGN);
      expect(foreign.status).toBe(403);
      expect((await foreign.json()).error.code).toBe('forbidden_origin');
      expect((await anon().get('/api/me', { cookie })).status).toBe(200);

      const res = await logout(ORIGIN);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/login');
      // The browser is told to drop the cookie...
      expect(res.headers.get('set-cookie')).toMatch(/portal_session=;/);
      // ...and a copy kept elsewhere no longer works.
      expectError(await anon().get('/api/me', { cookie }), 401, 'unauthenticated');
    });
  });

  describe('users', () => {
    it('lists {items, total} with q, role, sort, limit and offset, for admins and managers only', async () => {
      await newUser('zed-alpha', 'user', 'Zelda Quux');
      await newUser('zed-beta', 'manager');
      await newUser('zed-gamma', 'user');
      const all = await w.admin.api.get('/api/users');
      expect(all.status).toBe(200);
      expect(sorted(Object.keys(all.body))).toEqual(['items', 'total']);
      expect(all.body.total).toBeGreaterThanOrEqual(8);
      expect(all.body.items).toHaveLength(all.body.total);
      for (const user of all.body.items) expect(sorted(Object.keys(user))).toEqual(USER_KEYS);
      expect(all.text).not.toMatch(/password|hash|argon/i);

      const names = (res: Reply) => res.body.items.map((u: { username: string }) => u.username);
      const zed = await w.admin.api.get('/api/users?q=ZED&sort=username');
      expect(zed.body.total).toBe(3);
      expect(names(zed)).toEqual(['zed-alpha', 'zed-beta', 'zed-gamma']);
      // q searches display names too.
      expect(names(await w.admin.api.get('/api/users?q=quux'))).toEqual(['zed-alpha']);
      const users = await w.admin.api.get('/api/users?q=zed&role=user&sort=-username');
      expect(names(users)).toEqual(['zed-gamma', 'zed-alpha']);
      expect(users.body.total).toBe(2);
      const page = await w.admin.api.get('/api/users?q=zed&role=user&sort=-username&limit=1&offset=1');
      expect(names(page)).toEqual(['zed-alpha']);
      expect(page.body.total).toBe(2);
      const beyond = await w.admin.api.get('/api/users?q=zed&limit=5&offset=3');
      expect(beyond.body).toEqual({ items: [], total: 3 });
      const roles = await w.admin.api.get('/api/users?role=manager');
      expect(roles.body.items.every((u: { role: string }) => u.role === 'manager')).toBe(true);
      expect(names(roles)).toEqual(expect.arrayContaining(['mara', 'mbeck', 'zed-beta']));

      // Managers read (to pick assignees); users may not.
      const byManager = await w.managerA.api.get('/api/users?q=zed&sort=username');
      expect(byManager.status).toBe(200);
      expect(byManager.body).toEqual(zed.body);
      expectError(await w.userA.api.get('/api/users'), 403, 'forbidden');

      expectInvalid(await w.admin.api.get('/api/users?limit=201'), 'limit');
      expectInvalid(await w.admin.api.get('/api/users?limit=0'), 'limit');
      expectInvalid(await w.admin.api.get('/api/users?offset=-1'), 'offset');
      expectInvalid(await w.admin.api.get('/api/users?role=boss'), 'role');
      expectInvalid(await w.admin.api.get('/api/users?sort=password_hash'), 'sort');
    });

    it('creates (201), reads (200/404) and patches users; only admins write', async () => {
      const created = await w.admin.api.post('/api/users', {
        username: 'Nina.N',
        password: SECRET,
        role: 'user',
        display_name: 'Nina Nova',
      });
      expect(created.status).toBe(201);
      expect(sorted(Object.keys(created.body))).toEqual(USER_KEYS);
      expect(created.body).toMatchObject({
        username: 'Nina.N',
        display_name: 'Nina Nova',
        role: 'user',
        active: true,
      });
      expect(created.body.created_at).toMatch(ISO_INSTANT);
      const id = created.body.id;

      const read = await w.managerA.api.get(`/api/users/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
      expectError(await w.admin.api.get('/api/users/999999'), 404, 'not_found');
      expectError(await w.userA.api.get(`/api/users/${id}`), 403, 'forbidden');

      const patched = await w.admin.api.patch(`/api/users/${id}`, { display_name: 'Nina N.' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ id, display_name: 'Nina N.', role: 'user', active: true });
      expect(sorted(Object.keys(patched.body))).toEqual(USER_KEYS);
      expect((await w.admin.api.get(`/api/users/${id}`)).body.display_name).toBe('Nina N.');
      expectError(await w.admin.api.patch('/api/users/999999', { display_name: 'x' }), 404, 'not_found');
      expectError(await w.admin.api.patch(`/api/users/${id}`, {}), 422, 'validation_failed');
      expectInvalid(await w.admin.api.patch(`/api/users/${id}`, { role: 'boss' }), 'role');
      expectInvalid(await w.admin.api.patch(`/api/users/${id}`, { password_hash: 'x' }), 'password_hash');

      // A new password: the old one and the sessions signed in with it stop working.
      const nina = await signIn('Nina.N');
      const reset = await w.admin.api.patch(`/api/users/${id}`, { password: 'another fine passphrase' });
      expect(reset.status).toBe(200);
      expect(reset.text).not.toMatch(/password|hash/i);
      expectError(await nina.get('/api/me'), 401, 'unauthenticated');
      expectError(await login('Nina.N', SECRET), 401, 'invalid_credentials');
      expect((await login('nina.n', 'another fine passphrase')).status).toBe(200);

      // Only admins write.
      expectError(
        await w.managerA.api.post('/api/users', { username: 'by-mgr', password: SECRET, role: 'user' }),
        403,
        'forbidden',
      );
      expectError(await w.managerA.api.patch(`/api/users/${id}`, { display_name: 'x' }), 403, 'forbidden');
      expectError(await w.managerA.api.delete(`/api/users/${id}`), 403, 'forbidden');
      expectError(await w.userA.api.patch(`/api/users/${w.userA.id}`, { role: 'admin' }), 403, 'forbidden');
      expect((await w.userA.api.get('/api/me')).body.role).toBe('user');
    });

    it('409 conflict on a taken username in any case; 422 naming `password` for weak passwords', async () => {
      await newUser('Casey', 'user');
      for (const username of ['casey', 'CASEY', 'Casey']) {
        const taken = await w.admin.api.post('/api/users', { username, password: SECRET, role: 'user' });
        expectError(taken, 409, 'conflict');
      }
      const short = await w.admin.api.post('/api/users', {
        username: 'olga',
        password: 'elevenchars',
        role: 'user',
      });
      expectInvalid(short, 'password');
      const withName = await w.admin.api.post('/api/users', {
        username: 'olga',
        password: 'my name is OLGA, ok?',
        role: 'user',
      });
      expectInvalid(withName, 'password');
      expect(withName.body.error.details.map((d: { field: string }) => d.field)).toEqual(['password']);
      // Nothing was created by the refused requests.
      expect((await w.admin.api.get('/api/users?q=olga')).body.total).toBe(0);
      expectInvalid(
        await w.admin.api.post('/api/users', { username: 'x', password: SECRET, role: 'root', extra: 1 }),
        'username',
        'role',
        'extra',
      );
      expectInvalid(await w.admin.api.post('/api/users', { username: 'olga', password: SECRET }), 'role');
      const twelve = await w.admin.api.post('/api/users', {
        username: 'olga',
        password: 'twelve chars',
        role: 'user',
      });
      expect(twelve.status).toBe(201);
      // The same rule when an admin resets a password.
      expectInvalid(
        await w.admin.api.patch(`/api/users/${twelve.body.id}`, { password: 'short' }),
        'password',
      );
      expectInvalid(
        await w.admin.api.patch(`/api/users/${twelve.body.id}`, { password: 'hello olga hello' }),
        'password',
      );
    });

    it('DELETE answers 204 and leaves their tasks unassigned; 404 afterwards', async () => {
      const leaver = await newUser('leaver', 'user');
      const t1 = await newTask(w.managerA.api, {
        project_id: w.projectA.id,
        title: 'Orphan one',
        assignee_id: leaver.id,
      });
      const t2 = await newTask(w.managerB.api, {
        project_id: w.projectB.id,
        title: 'Orphan two',
        assignee_id: leaver.id,
      });
      const del = await w.admin.api.delete(`/api/users/${leaver.id}`);
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      const a = await w.managerA.api.get(`/api/tasks/${t1.id}`);
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ id: t1.id, assignee_id: null, title: 'Orphan one' });
      expect((await w.managerB.api.get(`/api/tasks/${t2.id}`)).body.assignee_id).toBeNull();
      expect((await w.admin.api.get(`/api/tasks?assignee_id=${leaver.id}`)).body).toEqual({
        items: [],
        total: 0,
      });
      expectError(await w.admin.api.get(`/api/users/${leaver.id}`), 404, 'not_found');
      expectError(await w.admin.api.delete(`/api/users/${leaver.id}`), 404, 'not_found');
      // Other people's tasks are untouched.
      expect((await w.admin.api.get(`/api/tasks/${w.taskA.id}`)).body.assignee_id).toBe(w.userA.id);
    });

    it('DELETE or demotion of a user who owns projects is 409; an admin cannot delete, deactivate or demote themself', async () => {
      const del = await w.admin.api.delete(`/api/users/${w.managerA.id}`);
      expectError(del, 409, 'conflict');
      expect((await w.admin.api.get(`/api/users/${w.managerA.id}`)).status).toBe(200);
      expect((await w.admin.api.get(`/api/projects/${w.projectA.id}`)).body.owner_id).toBe(w.managerA.id);
      expectError(await w.admin.api.patch(`/api/users/${w.managerB.id}`, { role: 'user' }), 409, 'conflict');
      expect((await w.managerB.api.get('/api/me')).body.role).toBe('manager');

      expectError(await w.admin.api.delete(`/api/users/${w.admin.id}`), 409, 'conflict');
      expectError(await w.admin.api.patch(`/api/users/${w.admin.id}`, { active: false }), 409, 'conflict');
      expectError(await w.admin.api.patch(`/api/users/${w.admin.id}`, { role: 'user' }), 409, 'conflict');
      const me = await w.admin.api.get('/api/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ role: 'admin', active: true });
    });
  });

  describe('projects', () => {
    const names = async (api: Client) => {
      const res = await api.get('/api/projects?sort=name&limit=200');
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(res.body.total);
      return res.body.items.map((p: { name: string }) => p.name) as string[];
    };

    it('scopes lists and reads: admin all, manager owned, user those holding their tasks', async () => {
      const all = await w.admin.api.get('/api/projects');
      expect(sorted(Object.keys(all.body))).toEqual(['items', 'total']);
      for (const p of all.body.items) expect(sorted(Object.keys(p))).toEqual(PROJECT_KEYS);
      expect(await names(w.admin.api)).toEqual(expect.arrayContaining(['Project A', 'Project B']));

      const mine = await w.managerA.api.get('/api/projects?limit=200');
      expect(mine.body.items.every((p: { owner_id: number }) => p.owner_id === w.managerA.id)).toBe(true);
      expect(await names(w.managerA.api)).toContain('Project A');
      expect(await names(w.managerA.api)).not.toContain('Project B');
      expectError(await w.managerA.api.get(`/api/projects/${w.projectB.id}`), 404, 'not_found');
      const a = await w.managerA.api.get(`/api/projects/${w.projectA.id}`);
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ id: w.projectA.id, name: 'Project A', owner_id: w.managerA.id });

      // A user sees exactly the projects holding tasks assigned to them, as that changes.
      const scoped = await newUser('scoped', 'user');
      const api = await signIn('scoped');
      expect((await api.get('/api/projects')).body).toEqual({ items: [], total: 0 });
      expectError(await api.get(`/api/projects/${w.projectB.id}`), 404, 'not_found');
      const t = await newTask(w.managerB.api, {
        project_id: w.projectB.id,
        title: 'For scoped',
        assignee_id: scoped.id,
      });
      expect(await names(api)).toEqual(['Project B']);
      expect((await api.get(`/api/projects/${w.projectB.id}`)).body.name).toBe('Project B');
      expectError(await api.get(`/api/projects/${w.projectA.id}`), 404, 'not_found');
      await w.managerB.api.patch(`/api/tasks/${t.id}`, { assignee_id: null });
      expect((await api.get('/api/projects')).body.total).toBe(0);
      expectError(await api.get(`/api/projects/${w.projectB.id}`), 404, 'not_found');

      expect(await names(w.userA.api)).toContain('Project A');
      expect(await names(w.userA.api)).not.toContain('Project B');
      expectError(await w.admin.api.get('/api/projects/999999'), 404, 'not_found');
    });

    it('creates: a manager owns what they create; an admin may name a manager as owner, not a user', async () => {
      const mine = await w.managerA.api.post('/api/projects', { name: 'Mara’s own', description: 'Hers' });
      expect(mine.status).toBe(201);
      expect(sorted(Object.keys(mine.body))).toEqual(PROJECT_KEYS);
      expect(mine.body).toMatchObject({ name: 'Mara’s own', description: 'Hers', owner_id: w.managerA.id });
      const bare = await w.managerA.api.post('/api/projects', { name: 'No description' });
      expect(bare.body.description).toBe('');
      expectError(
        await w.managerA.api.post('/api/projects', { name: 'For B', owner_id: w.managerB.id }),
        403,
        'forbidden',
      );
      expect(await names(w.managerB.api)).not.toContain('For B');

      const forB = await w.admin.api.post('/api/projects', { name: 'Given to B', owner_id: w.managerB.id });
      expect(forB.status).toBe(201);
      expect(forB.body.owner_id).toBe(w.managerB.id);
      expect(await names(w.managerB.api)).toContain('Given to B');
      const own = await w.admin.api.post('/api/projects', { name: 'Admin’s own' });
      expect(own.body.owner_id).toBe(w.admin.id);

      expectInvalid(
        await w.admin.api.post('/api/projects', { name: 'For a user', owner_id: w.userA.id }),
        'owner_id',
      );
      expectInvalid(
        await w.admin.api.post('/api/projects', { name: 'For nobody', owner_id: 999999 }),
        'owner_id',
      );
      expect(await names(w.admin.api)).not.toContain('For a user');
      expectError(await w.userA.api.post('/api/projects', { name: 'Nope' }), 403, 'forbidden');
      expectInvalid(await w.managerA.api.post('/api/projects', { name: '' }), 'name');
      expectInvalid(await w.managerA.api.post('/api/projects', { name: 'x'.repeat(201) }), 'name');
      expectInvalid(
        await w.managerA.api.post('/api/projects', { name: 'Long', description: 'd'.repeat(10_001) }),
        'description',
      );
      expect(
        (
          await w.managerA.api.post('/api/projects', {
            name: 'y'.repeat(200),
            description: 'd'.repeat(10_000),
          })
        ).status,
      ).toBe(201);
    });

    it('PATCH and DELETE by the owner and admins; another manager 404; a user who can see it 403', async () => {
      const p = await w.managerA.api.post('/api/projects', { name: 'Short-lived' });
      const url = `/api/projects/${p.body.id}`;
      expectError(await w.managerB.api.get(url), 404, 'not_found');
      expectError(await w.managerB.api.patch(url, { name: 'Stolen' }), 404, 'not_found');
      expectError(await w.managerB.api.delete(url), 404, 'not_found');

      const renamed = await w.managerA.api.patch(url, { name: 'Renamed', description: 'Now described' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id: p.body.id, name: 'Renamed', description: 'Now described' });
      expect(Date.parse(renamed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(p.body.updated_at));
      const byAdmin = await w.admin.api.patch(url, { description: 'Admin was here' });
      expect(byAdmin.status).toBe(200);
      expect(byAdmin.body).toMatchObject({ name: 'Renamed', description: 'Admin was here' });
      expectInvalid(await w.managerA.api.patch(url, { name: '' }), 'name');
      expectError(await w.managerA.api.patch(url, {}), 422, 'validation_failed');
      // Only admins hand a project over.
      expectError(await w.managerA.api.patch(url, { owner_id: w.managerB.id }), 403, 'forbidden');

      // A user who sees the project (a task of theirs is in it) may read it, not change it.
      await newTask(w.managerA.api, { project_id: p.body.id, title: 'Visible', assignee_id: w.userA.id });
      expect((await w.userA.api.get(url)).status).toBe(200);
      expectError(await w.userA.api.patch(url, { name: 'Mine now' }), 403, 'forbidden');
      expectError(await w.userA.api.delete(url), 403, 'forbidden');
      expect((await w.admin.api.get(url)).body.name).toBe('Renamed');

      const deleted = await w.managerA.api.delete(url);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      expectError(await w.admin.api.get(url), 404, 'not_found');
      expectError(await w.managerA.api.delete(url), 404, 'not_found');
      // Its tasks went with it.
      expect((await w.admin.api.get(`/api/tasks?project_id=${p.body.id}`)).body.total).toBe(0);

      // An admin deletes anyone's project.
      const q = await w.managerB.api.post('/api/projects', { name: 'B’s short-lived' });
      expect((await w.admin.api.delete(`/api/projects/${q.body.id}`)).status).toBe(204);
      expectError(await w.managerB.api.get(`/api/projects/${q.body.id}`), 404, 'not_found');
    });
  });

  describe('tasks', () => {
    it('creates with defaults (todo, medium) and validates every field', async () => {
      const t = await w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'Plain' });
      expect(t.status).toBe(201);
      expect(sorted(Object.keys(t.body))).toEqual(TASK_KEYS);
      expect(t.body).toMatchObject({
        project_id: w.projectA.id,
        title: 'Plain',
        status: 'todo',
        priority: 'medium',
        assignee_id: null,
        due_date: null,
        completed_at: null,
      });
      expect(t.body.created_at).toMatch(ISO_INSTANT);
      const read = await w.managerA.api.get(`/api/tasks/${t.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(t.body);

      const full = await w.admin.api.post('/api/tasks', {
        project_id: w.projectA.id,
        title: 'Full',
        assignee_id: w.userA.id,
        status: 'blocked',
        priority: 'urgent',
        due_date: '2031-12-31',
      });
      expect(full.status).toBe(201);
      expect(full.body).toMatchObject({
        assignee_id: w.userA.id,
        status: 'blocked',
        priority: 'urgent',
        due_date: '2031-12-31',
        completed_at: null,
      });

      expectInvalid(
        await w.managerA.api.post('/api/tasks', {
          project_id: w.projectA.id,
          title: '',
          status: 'finished',
          priority: 'whenever',
          due_date: '31/12/2031',
        }),
        'title',
        'status',
        'priority',
        'due_date',
      );
      expectInvalid(await w.managerA.api.post('/api/tasks', { title: 'No project' }), 'project_id');
      expectInvalid(
        await w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, title: 't'.repeat(201) }),
        'title',
      );
      expectInvalid(
        await w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'x', owner: 1 }),
        'owner',
      );
      expectInvalid(
        await w.managerA.api.post('/api/tasks', {
          project_id: w.projectA.id,
          title: 'To nobody',
          assignee_id: 999999,
        }),
        'assignee_id',
      );
      // Nothing was created by the refused requests.
      expect((await w.managerA.api.get(`/api/tasks?project_id=${w.projectA.id}&q=nobody`)).body.total).toBe(
        0,
      );
      // Only the owner and admins create tasks in a project; others see 403 or 404.
      expectError(
        await w.userA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'By a user' }),
        403,
        'forbidden',
      );
      expectError(
        await w.managerB.api.post('/api/tasks', { project_id: w.projectA.id, title: 'By B' }),
        404,
        'not_found',
      );
    });

    it('filters by project_id, assignee_id, status, priority, q and overdue; sorts by a whitelist; paginates', async () => {
      const lab = await w.managerB.api.post('/api/projects', { name: 'Filter lab' });
      const pid = lab.body.id;
      const specs = [
        {
          title: 'Alpha report',
          priority: 'low',
          status: 'todo',
          due_date: '2000-01-01',
          assignee_id: w.userB.id,
        },
        { title: 'Beta report', priority: 'high', status: 'in_progress', due_date: '2031-02-01' },
        { title: 'Gamma review', priority: 'high', status: 'blocked', assignee_id: w.userB.id },
        {
          title: 'Delta report',
          priority: 'urgent',
          status: 'done',
          due_date: '2000-01-02',
          assignee_id: w.userB.id,
        },
      ];
      for (const spec of specs) await newTask(w.managerB.api, { project_id: pid, ...spec });
      const q = (query: string, api = w.managerB.api) => api.get(`/api/tasks?project_id=${pid}&${query}`);

      const all = await q('sort=title');
      expect(all.status).toBe(200);
      expect(sorted(Object.keys(all.body))).toEqual(['items', 'total']);
      expect(all.body.total).toBe(4);
      for (const t of all.body.items) expect(sorted(Object.keys(t))).toEqual(TASK_KEYS);
      expect(titles(all)).toEqual(['Alpha report', 'Beta report', 'Delta report', 'Gamma review']);
      expect(titles(await q('sort=-title'))).toEqual([
        'Gamma review',
        'Delta report',
        'Beta report',
        'Alpha report',
      ]);
      // Tasks without a due date come last either way.
      expect(titles(await q('sort=-due_date'))).toEqual([
        'Beta report',
        'Delta report',
        'Alpha report',
        'Gamma review',
      ]);
      expect(titles(await q('sort=due_date'))).toEqual([
        'Alpha report',
        'Delta report',
        'Beta report',
        'Gamma review',
      ]);

      expect(titles(await q(`assignee_id=${w.userB.id}&sort=title`))).toEqual([
        'Alpha report',
        'Delta report',
        'Gamma review',
      ]);
      expect(titles(await q('status=blocked'))).toEqual(['Gamma review']);
      expect(titles(await q('priority=high&sort=title'))).toEqual(['Beta report', 'Gamma review']);
      expect(titles(await q('q=REPORT&sort=title'))).toEqual(['Alpha report', 'Beta report', 'Delta report']);
      // Overdue: past due and not done.
      const overdue = await q('overdue=true');
      expect(titles(overdue)).toEqual(['Alpha report']);
      expect(overdue.body.total).toBe(1);
      expect(titles(await q('overdue=false&sort=title'))).toEqual([
        'Beta report',
        'Delta report',
        'Gamma review',
      ]);
      // overdue=false must not widen the caller's scope (tasks without a due date elsewhere).
      const notOverdue = await w.userA.api.get('/api/tasks?overdue=false&limit=200');
      expect(notOverdue.body.items.every((t: { assignee_id: number }) => t.assignee_id === w.userA.id)).toBe(
        true,
      );
      expect(notOverdue.body.total).toBe(notOverdue.body.items.length);
      expect(titles(await q(`assignee_id=${w.userB.id}&priority=high`))).toEqual(['Gamma review']);
      expect((await q('status=done&priority=low')).body).toEqual({ items: [], total: 0 });

      // Pagination: limit, offset, and the total of every match.
      const first = await q('sort=title&limit=2');
      expect(titles(first)).toEqual(['Alpha report', 'Beta report']);
      expect(first.body.total).toBe(4);
      const second = await q('sort=title&limit=2&offset=2');
      expect(titles(second)).toEqual(['Delta report', 'Gamma review']);
      expect(second.body.total).toBe(4);
      expect((await q('sort=title&limit=2&offset=4')).body).toEqual({ items: [], total: 4 });

      // Scope still applies under filters: a user sees only their own, another manager nothing.
      expect(titles(await q('sort=title', w.userB.api))).toEqual([
        'Alpha report',
        'Delta report',
        'Gamma review',
      ]);
      expect((await q('sort=title', w.userA.api)).body).toEqual({ items: [], total: 0 });
      expect((await q('sort=title', w.managerA.api)).body).toEqual({ items: [], total: 0 });

      expectInvalid(await q('sort=password_hash'), 'sort');
      expectInvalid(await q('sort=-assignee'), 'sort');
      expectInvalid(await q('status=finished'), 'status');
      expectInvalid(await q('priority=whenever'), 'priority');
      expectInvalid(await q('limit=201'), 'limit');
      expectInvalid(await q('limit=0'), 'limit');
      expectInvalid(await q('overdue=maybe'), 'overdue');
      expectInvalid(await w.managerB.api.get('/api/tasks?project_id=abc'), 'project_id');
    });

    it('pages by 50 by default and 200 at most', async () => {
      const bulk = await w.managerB.api.post('/api/projects', { name: 'Bulk' });
      await ctx.database.db
        .insert(tasksTable)
        .values(Array.from({ length: 55 }, (_, i) => ({ project_id: bulk.body.id, title: `Bulk ${i}` })));
      const base = `/api/tasks?project_id=${bulk.body.id}`;
      const first = await w.managerB.api.get(base);
      expect(first.body.items).toHaveLength(50);
      expect(first.body.total).toBe(55);
      const rest = await w.managerB.api.get(`${base}&offset=50`);
      expect(rest.body.items).toHaveLength(5);
      expect(new Set([...ids(first), ...ids(rest)]).size).toBe(55);
      expect((await w.managerB.api.get(`${base}&limit=200`)).body.items).toHaveLength(55);
    });

    it('the assignee may change the status only; done sets completed_at and leaving done clears it', async () => {
      const t = await newTask(w.managerA.api, {
        project_id: w.projectA.id,
        title: 'Assigned work',
        assignee_id: w.userA.id,
      });
      const url = `/api/tasks/${t.id}`;
      const moving = await w.userA.api.patch(url, { status: 'in_progress' });
      expect(moving.status).toBe(200);
      expect(moving.body).toMatchObject({ status: 'in_progress', completed_at: null });
      for (const body of [
        { title: 'Mine now' },
        { status: 'done', priority: 'urgent' },
        { assignee_id: null },
        { due_date: '2040-01-01' },
      ]) {
        expectError(await w.userA.api.patch(url, body), 403, 'forbidden');
      }
      expectError(await w.userA.api.delete(url), 403, 'forbidden');
      expect((await w.userA.api.get(url)).body).toMatchObject({
        title: 'Assigned work',
        status: 'in_progress',
        priority: 'medium',
        assignee_id: w.userA.id,
      });

      const before = Date.now();
      const done = await w.userA.api.patch(url, { status: 'done' });
      expect(done.status).toBe(200);
      expect(done.body.status).toBe('done');
      expect(done.body.completed_at).toMatch(ISO_INSTANT);
      const completed = Date.parse(done.body.completed_at);
      expect(completed).toBeGreaterThan(before - 5_000);
      expect(completed).toBeLessThanOrEqual(Date.now() + 5_000);
      // Other changes to a done task keep its completion time.
      const touched = await w.managerA.api.patch(url, { priority: 'low' });
      expect(touched.body).toMatchObject({ priority: 'low', completed_at: done.body.completed_at });
      const reopened = await w.userA.api.patch(url, { status: 'blocked' });
      expect(reopened.status).toBe(200);
      expect(reopened.body).toMatchObject({ status: 'blocked', completed_at: null });
      expect((await w.managerA.api.get(url)).body.completed_at).toBeNull();
      // A task created done is completed at once.
      const born = await newTask(w.managerA.api, {
        project_id: w.projectA.id,
        title: 'Born done',
        status: 'done',
      });
      expect(born.completed_at).toMatch(ISO_INSTANT);

      // The owner changes any field.
      const edited = await w.managerA.api.patch(url, {
        title: 'Edited',
        priority: 'high',
        assignee_id: null,
        due_date: '2032-03-04',
      });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({
        title: 'Edited',
        priority: 'high',
        assignee_id: null,
        due_date: '2032-03-04',
      });
      // No longer assigned, the user no longer sees it.
      expectError(await w.userA.api.get(url), 404, 'not_found');
      expectError(await w.userA.api.patch(url, { status: 'done' }), 404, 'not_found');
    });

    it('a manager of another project gets 404 on read, change, delete and move', async () => {
      const url = `/api/tasks/${w.taskA.id}`;
      expectError(await w.managerB.api.get(url), 404, 'not_found');
      expectError(await w.managerB.api.patch(url, { title: 'Hijacked' }), 404, 'not_found');
      expectError(await w.managerB.api.delete(url), 404, 'not_found');
      expectError(await w.userB.api.get(url), 404, 'not_found');
      expectError(await w.userB.api.patch(url, { status: 'done' }), 404, 'not_found');
      expect((await w.managerB.api.get(`/api/tasks?project_id=${w.projectA.id}`)).body.total).toBe(0);
      // The owner cannot move a task into a project they cannot see.
      expectError(await w.managerA.api.patch(url, { project_id: w.projectB.id }), 404, 'not_found');
      const intact = await w.admin.api.get(url);
      expect(intact.body).toMatchObject({ title: 'Task A', project_id: w.projectA.id });

      // The owner and admins delete.
      const t = await newTask(w.managerA.api, { project_id: w.projectA.id, title: 'Delete me' });
      const del = await w.managerA.api.delete(`/api/tasks/${t.id}`);
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expectError(await w.managerA.api.get(`/api/tasks/${t.id}`), 404, 'not_found');
      const u = await newTask(w.managerB.api, { project_id: w.projectB.id, title: 'Admin deletes me' });
      expect((await w.admin.api.delete(`/api/tasks/${u.id}`)).status).toBe(204);
      expectError(await w.admin.api.delete(`/api/tasks/${u.id}`), 404, 'not_found');
    });

    it('a user lists only the tasks assigned to them', async () => {
      const res = await w.userB.api.get('/api/tasks?limit=200');
      expect(res.status).toBe(200);
      expect(res.body.total).toBeGreaterThan(0);
      expect(res.body.items.every((t: { assignee_id: number }) => t.assignee_id === w.userB.id)).toBe(true);
      expect(ids(res)).toContain(w.taskB.id);
      expect(ids(res)).not.toContain(w.taskA.id);
    });
  });

  describe('metrics', () => {
    const metrics = async (api: Client) => {
      const res = await api.get('/api/metrics');
      expect(res.status).toBe(200);
      return res.body;
    };
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

    it('answers each role its dashboard document, consistent with the lists', async () => {
      const user = await metrics(w.userA.api);
      expect(user.role).toBe('user');
      expect(sorted(Object.keys(user.my_tasks))).toEqual(STATUS_KEYS);
      expect(typeof user.my_overdue).toBe('number');
      for (const key of ['team_tasks', 'projects', 'users_by_role', 'org_tasks'])
        expect(user).not.toHaveProperty(key);
      expect(sum(user.my_tasks)).toBe((await w.userA.api.get('/api/tasks')).body.total);

      const manager = await metrics(w.managerA.api);
      expect(manager.role).toBe('manager');
      expect(sorted(Object.keys(manager.my_tasks))).toEqual(STATUS_KEYS);
      expect(sorted(Object.keys(manager.team_tasks))).toEqual(STATUS_KEYS);
      for (const key of ['users_by_role', 'org_tasks']) expect(manager).not.toHaveProperty(key);
      const owned = (await w.managerA.api.get('/api/projects?limit=200')).body;
      expect(sorted(Object.keys(manager.projects))).toEqual(
        sorted(ids({ body: owned } as Reply).map(String)),
      );
      expect(manager.projects[w.projectB.id]).toBeUndefined();
      const a = manager.projects[w.projectA.id];
      expect(sorted(Object.keys(a))).toEqual(['done', 'name', 'total']);
      expect(a.name).toBe('Project A');
      expect(a.total).toBe((await w.managerA.api.get(`/api/tasks?project_id=${w.projectA.id}`)).body.total);
      expect(a.done).toBe(
        (await w.managerA.api.get(`/api/tasks?project_id=${w.projectA.id}&status=done`)).body.total,
      );
      expect(sum(manager.team_tasks)).toBe(
        Object.values(manager.projects as Record<string, { total: number }>).reduce((n, p) => n + p.total, 0),
      );

      const admin = await metrics(w.admin.api);
      expect(admin.role).toBe('admin');
      expect(admin).not.toHaveProperty('team_tasks');
      expect(sorted(Object.keys(admin.org_tasks))).toEqual(STATUS_KEYS);
      expect(sorted(Object.keys(admin.users_by_role))).toEqual(['admin', 'manager', 'user']);
      expect(admin.projects[w.projectA.id]).toEqual(a);
      expect(admin.projects[w.projectB.id]).toMatchObject({ name: 'Project B' });
      expect(Object.keys(admin.projects)).toHaveLength((await w.admin.api.get('/api/projects')).body.total);
      expect(sum(admin.org_tasks)).toBe((await w.admin.api.get('/api/tasks')).body.total);
      expect(admin.org_tasks.done).toBe((await w.admin.api.get('/api/tasks?status=done')).body.total);
      expect(admin.users_by_role.manager).toBe(
        (await w.admin.api.get('/api/users?role=manager&active=true')).body.total,
      );
      expect(sum(admin.users_by_role)).toBe((await w.admin.api.get('/api/users?active=true')).body.total);
    });

    it('follows task writes: marking taskA done moves every dashboard that counts it', async () => {
      await w.admin.api.patch(`/api/tasks/${w.taskA.id}`, { status: 'todo' });
      const [user, manager, admin, otherUser, otherManager] = await Promise.all(
        [w.userA, w.managerA, w.admin, w.userB, w.managerB].map((p) => metrics(p.api)),
      );
      const done = await w.userA.api.patch(`/api/tasks/${w.taskA.id}`, { status: 'done' });
      expect(done.status).toBe(200);

      const userAfter = await metrics(w.userA.api);
      expect(userAfter.my_tasks.done).toBe(user.my_tasks.done + 1);
      expect(userAfter.my_tasks.todo).toBe(user.my_tasks.todo - 1);
      const managerAfter = await metrics(w.managerA.api);
      expect(managerAfter.team_tasks.done).toBe(manager.team_tasks.done + 1);
      expect(managerAfter.team_tasks.todo).toBe(manager.team_tasks.todo - 1);
      expect(managerAfter.projects[w.projectA.id]).toEqual({
        ...manager.projects[w.projectA.id],
        done: manager.projects[w.projectA.id].done + 1,
      });
      const adminAfter = await metrics(w.admin.api);
      expect(adminAfter.org_tasks.done).toBe(admin.org_tasks.done + 1);
      expect(adminAfter.org_tasks.todo).toBe(admin.org_tasks.todo - 1);
      expect(adminAfter.projects[w.projectA.id].done).toBe(admin.projects[w.projectA.id].done + 1);
      // Nobody else's numbers moved.
      expect((await metrics(w.userB.api)).my_tasks).toEqual(otherUser.my_tasks);
      expect((await metrics(w.managerB.api)).team_tasks).toEqual(otherManager.team_tasks);

      // An overdue task assigned to userA counts in my_overdue until it is done.
      const late = await newTask(w.managerA.api, {
        project_id: w.projectA.id,
        title: 'Late',
        assignee_id: w.userA.id,
        due_date: '2001-01-01',
      });
      expect((await metrics(w.userA.api)).my_overdue).toBe(user.my_overdue + 1);
      await w.userA.api.patch(`/api/tasks/${late.id}`, { status: 'done' });
      expect((await metrics(w.userA.api)).my_overdue).toBe(user.my_overdue);
    });

    it('follows user writes: users_by_role counts active users', async () => {
      const before = (await metrics(w.admin.api)).users_by_role;
      const m = await newUser('counted', 'manager');
      expect((await metrics(w.admin.api)).users_by_role).toEqual({ ...before, manager: before.manager + 1 });
      await w.admin.api.patch(`/api/users/${m.id}`, { active: false });
      expect((await metrics(w.admin.api)).users_by_role).toEqual(before);
    });
  });

  describe('audit', () => {
    it('is for admins only', async () => {
      expectError(await w.managerA.api.get('/api/audit'), 403, 'forbidden');
      expectError(await w.userA.api.get('/api/audit'), 403, 'forbidden');
      expectError(await anon().get('/api/audit'), 401, 'unauthenticated');
    });

    it('answers {items, total} newest first, each entry with actor {id, username}, entity, op, before, after', async () => {
      const p = await w.managerA.api.post('/api/projects', { name: 'Audited' });
      await w.managerA.api.patch(`/api/projects/${p.body.id}`, { name: 'Audited twice' });
      await w.managerA.api.delete(`/api/projects/${p.body.id}`);

      const res = await w.admin.api.get(`/api/audit?entity=projects&actor_id=${w.managerA.id}`);
      expect(res.status).toBe(200);
      expect(sorted(Object.keys(res.body))).toEqual(['items', 'total']);
      expect(res.body.total).toBe(res.body.items.length);
      for (const entry of res.body.items) {
        expect(entry).toMatchObject({ entity: 'projects', actor: { id: w.managerA.id, username: 'mara' } });
      }
      const [deleted, updated, inserted] = res.body.items;
      expect(deleted).toMatchObject({
        op: 'delete',
        row_id: p.body.id,
        before: { name: 'Audited twice', owner_id: w.managerA.id },
        after: null,
      });
      expect(updated).toMatchObject({
        op: 'update',
        row_id: p.body.id,
        before: { name: 'Audited' },
        after: { name: 'Audited twice' },
      });
      expect(inserted).toMatchObject({
        op: 'insert',
        row_id: p.body.id,
        before: null,
        after: { name: 'Audited' },
      });

      // Newest first across the whole log.
      const page = await w.admin.api.get('/api/audit?limit=200');
      const entryIds = ids(page);
      expect(entryIds.length).toBeGreaterThan(10);
      expect(entryIds).toEqual([...entryIds].sort((x, y) => y - x));
      const times = page.body.items.map((e: { at: string }) => Date.parse(e.at));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      for (const entry of page.body.items) {
        expect(['users', 'projects', 'tasks']).toContain(entry.entity);
        expect(['insert', 'update', 'delete']).toContain(entry.op);
        if (entry.actor !== null)
          expect(entry.actor).toMatchObject({ id: expect.any(Number), username: expect.any(String) });
      }
      // Writes made outside the portal (makeWorld inserts with SQL) have no actor.
      const seeded = await w.admin.api.get(`/api/audit?entity=projects&row_id=${w.projectA.id}`);
      expect(seeded.body.items.at(-1)).toMatchObject({ op: 'insert', actor: null, actor_id: null });
    });

    it('filters by entity and actor_id, and paginates', async () => {
      const t = await newTask(w.managerB.api, { project_id: w.projectB.id, title: 'Audit me' });
      await w.managerB.api.patch(`/api/tasks/${t.id}`, { title: 'Audit me again' });
      await w.userB.api.patch(`/api/tasks/${w.taskB.id}`, { status: 'blocked' });

      const byB = await w.admin.api.get(`/api/audit?actor_id=${w.managerB.id}&entity=tasks`);
      expect(byB.body.total).toBeGreaterThanOrEqual(2);
      expect(
        byB.body.items.every(
          (e: { actor_id: number; entity: string }) => e.actor_id === w.managerB.id && e.entity === 'tasks',
        ),
      ).toBe(true);
      expect(byB.body.items[0]).toMatchObject({
        op: 'update',
        row_id: t.id,
        before: { title: 'Audit me' },
        after: { title: 'Audit me again' },
      });
      const byUser = await w.admin.api.get(`/api/audit?actor_id=${w.userB.id}`);
      expect(byUser.body.items[0]).toMatchObject({
        entity: 'tasks',
        op: 'update',
        row_id: w.taskB.id,
        after: { status: 'blocked' },
        actor: { id: w.userB.id, username: 'ulrich' },
      });
      const users = await w.admin.api.get('/api/audit?entity=users&limit=200');
      expect(users.body.total).toBeGreaterThan(0);
      expect(users.body.items.every((e: { entity: string }) => e.entity === 'users')).toBe(true);
      // The audit never carries a password hash; a reset shows as password_changed.
      const passwordReset = users.body.items.find(
        (e: { after: { password_changed?: boolean } | null }) => e.after?.password_changed,
      );
      expect(passwordReset).toBeDefined();
      expect(users.text).not.toMatch(/password_hash|\$argon2/);

      const whole = await w.admin.api.get(`/api/audit?entity=tasks&limit=4`);
      const second = await w.admin.api.get(`/api/audit?entity=tasks&limit=2&offset=2`);
      expect(second.body.total).toBe(whole.body.total);
      expect(ids(second)).toEqual(ids(whole).slice(2, 4));
      const last = await w.admin.api.get(`/api/audit?entity=tasks&limit=2&offset=${whole.body.total}`);
      expect(last.body).toEqual({ items: [], total: whole.body.total });

      expectInvalid(await w.admin.api.get('/api/audit?entity=auth_sessions'), 'entity');
      expectInvalid(await w.admin.api.get('/api/audit?actor_id=abc'), 'actor_id');
      expectInvalid(await w.admin.api.get('/api/audit?limit=500'), 'limit');
    });
  });

  describe('documents and errors', () => {
    it('GET /api/openapi.json documents every /api route with its method', async () => {
      const doc = await anon().get('/api/openapi.json');
      expect(doc.status).toBe(200);
      expect(doc.headers.get('content-type')).toMatch(/^application\/json/);
      expect(doc.body.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(doc.body.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
      expect(Object.keys(doc.body.components.securitySchemes)).toEqual(
        expect.arrayContaining(['bearer', 'cookie']),
      );
      const paths = doc.body.paths as Record<string, Record<string, { responses: object }>>;
      // Every API route the app serves (but the document and its page themselves) is documented.
      const served = ctx.app.routes
        .filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/'))
        .filter((r) => r.path !== '/api/openapi.json' && r.path !== '/api/docs')
        .map((r) => ({ path: r.path.replace(/:(\w+)/g, '{$1}'), method: r.method.toLowerCase() }));
      expect(served.length).toBeGreaterThanOrEqual(18);
      for (const { path, method } of served) {
        expect(paths[path], path).toBeDefined();
        expect(paths[path]![method], `${method} ${path}`).toBeDefined();
      }
      for (const path of [
        '/api/auth/login',
        '/api/auth/logout',
        '/api/me',
        '/api/users',
        '/api/users/{id}',
        '/api/projects',
        '/api/projects/{id}',
        '/api/tasks',
        '/api/tasks/{id}',
        '/api/metrics',
        '/api/audit',
      ]) {
        expect(Object.keys(paths)).toContain(path);
      }
      expect(sorted(Object.keys(paths['/api/tasks/{id}']!))).toEqual(['delete', 'get', 'patch']);
      for (const item of Object.values(paths)) {
        for (const op of Object.values(item)) expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      }
      expect(doc.text).not.toMatch(/password_hash/);
    });

    it('GET /api/docs answers an HTML page reading that document', async () => {
      const page = await anon().get('/api/docs');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.text).toMatch(/<html/i);
      for (const path of ['/api/auth/login', '/api/tasks/{id}', '/api/metrics', '/api/audit']) {
        expect(page.text).toContain(path);
      }
    });

    it('answers unknown routes 404 with the error body', async () => {
      const missing = await w.admin.api.get('/api/nothing-here');
      expectError(missing, 404, 'not_found');
      expectError(await w.admin.api.get('/api/tasks/1/comments'), 404, 'not_found');
      expectError(await anon().get('/no-such-page'), 404, 'not_found');
      // Ids that are not ids are a validation failure naming the parameter.
      expectInvalid(await w.admin.api.get('/api/tasks/abc'), 'id');
      expectError(await w.admin.api.get('/api/tasks/999999'), 404, 'not_found');
    });
  });
});
