import { describe, expect, it } from 'vitest';
import {
  DRIVERS,
  expectError,
  expectInvalid,
  FOREIGN,
  ISO_INSTANT,
  SECRET,
  sorted,
  USER_KEYS,
  useApi,
} from '../support/api-harness.ts';
import { client, ORIGIN } from '../support/client.ts';
import { PASSWORD } from '../support/world.ts';

/** The JSON API contract (docs/contract.md §4) for sign-in, sign-out, throttling and the browser cookie flow, on every driver. */
describe.each(DRIVERS)('sign-in, sign-out, throttling and the browser cookie flow API on %s', (driver) => {
  const h = useApi(driver, { minValidated: 11 });
  const { anon, login, signIn, newUser } = h;

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
      expect(res.body.user).toMatchObject({
        id: h.w.userA.id,
        username: 'ursula',
        role: 'user',
        active: true,
      });
      expect(res.text.replace(res.body.token, '')).not.toMatch(/password|hash|argon/i);
      // The token is what the API accepts, and /api/me answers the same user.
      const me = await client(h.ctx, res.body.token).get('/api/me');
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
      expectError(await client(h.ctx, 'not.a.token').get('/api/me'), 401, 'unauthenticated');
    });

    it('a deactivated user is refused on their very next request, and at sign-in with 403 account_deactivated', async () => {
      const dora = await newUser('dora', 'user');
      const api = await signIn('dora');
      expect((await api.get('/api/me')).body.active).toBe(true);
      const off = await h.w.admin.api.patch(`/api/users/${dora.id}`, { active: false });
      expect(off.status).toBe(200);
      expect(off.body).toMatchObject({ id: dora.id, active: false });
      expectError(await api.get('/api/me'), 401, 'unauthenticated');
      expectError(await api.get('/api/metrics'), 401, 'unauthenticated');
      expectError(await login('dora', SECRET), 403, 'account_deactivated');
      // Without the right password, nothing is revealed about the account.
      expectError(await login('dora', 'a wrong password here'), 401, 'invalid_credentials');
      // Reactivated, they can sign in again.
      expect((await h.w.admin.api.patch(`/api/users/${dora.id}`, { active: true })).body.active).toBe(true);
      expect((await login('dora', SECRET)).status).toBe(200);
    });

    it('a role change applies to the very next request, both ways', async () => {
      // A user promoted to manager can create projects at once.
      const promo = await newUser('promo', 'user');
      const api = await signIn('promo');
      expectError(await api.post('/api/projects', { name: 'Before promotion' }), 403, 'forbidden');
      expectError(await api.get('/api/users'), 403, 'forbidden');
      const up = await h.w.admin.api.patch(`/api/users/${promo.id}`, { role: 'manager' });
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
      expectError(await h.w.admin.api.patch(`/api/users/${promo.id}`, { role: 'user' }), 409, 'conflict');
      expect((await api.get('/api/me')).body.role).toBe('manager');

      // A manager without projects can be demoted, and loses manager rights on the next request.
      const free = await newUser('mfree', 'manager');
      const freeApi = await signIn('mfree');
      expect((await freeApi.get('/api/users')).status).toBe(200);
      const down = await h.w.admin.api.patch(`/api/users/${free.id}`, { role: 'user' });
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
      const del = await h.w.admin.api.delete(`/api/users/${gone.id}`);
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
      h.ctx.app.request(`${ORIGIN}/login`, {
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
      expect(me.body).toMatchObject({ id: h.w.userA.id, username: 'ursula' });
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

      const body = { project_id: h.w.projectA.id, title: 'Cookie task' };
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
      expect(created.body).toMatchObject({ title: 'Cookie task', project_id: h.w.projectA.id });
      const url = `/api/tasks/${created.body.id}`;
      // Only the one task was created: the refused requests wrote nothing.
      const listed = await h.w.managerA.api.get(`/api/tasks?project_id=${h.w.projectA.id}&q=Cookie%20task`);
      expect(listed.body.total).toBe(1);

      expectError(
        await api.patch(url, { title: 'Renamed from afar' }, { cookie, origin: FOREIGN }),
        403,
        'forbidden_origin',
      );
      expectError(await api.patch(url, { title: 'No origin' }, { cookie }), 403, 'forbidden_origin');
      expect((await h.w.managerA.api.get(url)).body.title).toBe('Cookie task');
      const patched = await api.patch(url, { title: 'Renamed at home' }, { cookie, origin: ORIGIN });
      expect(patched.status).toBe(200);
      expect(patched.body.title).toBe('Renamed at home');

      expectError(await api.delete(url, { cookie, origin: FOREIGN }), 403, 'forbidden_origin');
      expectError(await api.delete(url, { cookie }), 403, 'forbidden_origin');
      expect((await h.w.managerA.api.get(url)).status).toBe(200);
      const deleted = await api.delete(url, { cookie, origin: ORIGIN });
      expect(deleted.status).toBe(204);
      expectError(await h.w.managerA.api.get(url), 404, 'not_found');

      // The same token as a bearer needs no Origin (API clients are not browsers).
      const token = cookie.slice('portal_session='.length);
      expect((await client(h.ctx, token).post('/api/tasks', { ...body, title: 'Bearer task' })).status).toBe(
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
        h.ctx.app.request(`${ORIGIN}/logout`, {
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
});
