import { describe, expect, it } from 'vitest';
import { useApi } from '../support/api-harness.ts';
import { client, ORIGIN } from '../support/client.ts';
import { PASSWORD } from '../support/world.ts';

/**
 * Sign-ins as a person has them, on each database driver: a revoked token, sign-ins on several
 * devices, and the browser's form sign-in (its redirect and its Origin check). The rest of the
 * JSON API's contract is in test/<feature>/api.test.ts.
 */
describe.each(['pglite', 'pg', 'neon'] as const)('sign-ins on %s', (driver) => {
  // One app, its organisation and the OpenAPI response check (test/support/api-harness.ts).
  const h = useApi(driver, { minValidated: 11, app: {} });

  describe('tokens and devices', () => {
    it('logout refuses that token from then on, and only that one', async () => {
      const a = await h.w.anon.post('/api/auth/login', { username: 'ursula', password: PASSWORD });
      const b = await h.w.anon.post('/api/auth/login', { username: 'ursula', password: PASSWORD });
      const first = client(h.ctx, a.body.token);
      expect((await first.post('/api/auth/logout')).status).toBe(204);
      const after = await first.get('/api/me');
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('unauthenticated');
      expect((await client(h.ctx, b.body.token).get('/api/me')).status).toBe(200);
      // A client still holding the revoked token can sign in again and reach public routes.
      const again = await first.post('/api/auth/login', { username: 'ursula', password: PASSWORD });
      expect(again.status).toBe(200);
      expect((await first.get('/api/openapi.json')).status).toBe(200);
      expect(after.body.error.message).toMatch(/expired or was revoked/);
    });

    it('lists my sessions on every device and ends one of them', async () => {
      const other = await h.w.anon.post('/api/auth/login', { username: 'ursula', password: PASSWORD });
      const list = await h.w.userA.api.get('/api/me/sessions');
      expect(list.status).toBe(200);
      expect(list.body.items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
      const target = list.body.items.find((s: { current: boolean }) => !s.current);
      expect((await h.w.userA.api.delete(`/api/me/sessions/${target.id}`)).status).toBe(204);
      const remaining = await h.w.userA.api.get('/api/me/sessions');
      expect(remaining.body.items.map((s: { id: string }) => s.id)).not.toContain(target.id);
      expect(other.status).toBe(200);
    });
  });

  describe('browser cookie and Origin', () => {
    const form = (fields: Record<string, string>, origin = ORIGIN) =>
      h.ctx.app.request(`${ORIGIN}/login`, {
        method: 'POST',
        headers: { host: 'portal.test', origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });

    it('signs in with the form: HttpOnly SameSite=Lax cookie, back to the page wanted', async () => {
      const res = await form({ username: 'ursula', password: PASSWORD, next: '/tasks' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/tasks');
      const cookie = res.headers.get('set-cookie')!;
      expect(cookie).toMatch(/portal_session=/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      const token = /portal_session=([^;]+)/.exec(cookie)![1]!;
      const cookieApi = client(h.ctx);
      const me = await cookieApi.get('/api/me', { cookie: `portal_session=${token}` });
      expect(me.body.username).toBe('ursula');
      // Unsafe cookie requests need this portal's Origin, whatever the content type.
      const patch = (origin?: string) =>
        cookieApi.patch(
          `/api/tasks/${h.w.taskA.id}`,
          { status: 'in_progress' },
          {
            cookie: `portal_session=${token}`,
            ...(origin ? { origin } : {}),
          },
        );
      const foreign = await patch('http://evil.example');
      expect(foreign.status).toBe(403);
      expect(foreign.body.error.code).toBe('forbidden_origin');
      expect((await patch()).status).toBe(403);
      expect((await patch(ORIGIN)).status).toBe(200);
      // The same token as a bearer needs no Origin.
      expect(
        (await client(h.ctx, token).patch(`/api/tasks/${h.w.taskA.id}`, { status: 'todo' })).status,
      ).toBe(200);
    });

    it('refuses a sign-in form posted from another site, and never redirects off-site', async () => {
      expect((await form({ username: 'ursula', password: PASSWORD }, 'http://evil.example')).status).toBe(
        403,
      );
      const res = await form({ username: 'ursula', password: PASSWORD, next: '//evil.example/x' });
      expect(res.headers.get('location')).toBe('/dashboard');
      const bad = await form({ username: 'ursula', password: 'wrong password!' });
      expect(bad.headers.get('location')).toMatch(/^\/login\?error=invalid/);
    });
  });
});
