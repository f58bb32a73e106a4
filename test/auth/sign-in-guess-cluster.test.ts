import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { api, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';

/**
 * A read on an instance runs beside its sign-in check, as the user that instance last saw for the
 * token (src/auth/middleware.ts). Whatever another instance changed in between — sign-out, a
 * deactivation, a role change — must show on the very next request here: two real processes, one
 * PostgreSQL, one Redis; B has answered the token many times before A changes anything.
 */
/*
 * Run twice: with the sign-in cache (src/auth/sign-in-cache.ts, on with Redis) B answers the token
 * from its cache; without it (SIGN_IN_CACHE_SECONDS=0) B reads beside its guess.
 */
describe.each([
  { mode: 'sign-in cache on', env: {} as Record<string, string> },
  { mode: 'no cache: read beside the guess', env: { SIGN_IN_CACHE_SECONDS: '0' } },
])(
  'a sign-in changed on instance A is refused or re-read by instance B on the very next request ($mode)',
  ({ env }) => {
    let cluster: Cluster;
    let a: Instance;
    let b: Instance;
    let admin: string;
    const ids: Record<string, number> = {};

    /** B has answered this token (API and page) often enough to hold its guess. */
    const warm = async (token: string) => {
      for (let i = 0; i < 3; i++) {
        expect((await api(b.base, token, 'GET', '/api/me')).status).toBe(200);
        expect((await api(b.base, token, 'GET', '/api/tasks')).status).toBe(200);
        const page = await fetch(`${b.base}/dashboard`, {
          headers: { cookie: `portal_session=${token}` },
          redirect: 'manual',
        });
        expect(page.status).toBe(200);
        await page.arrayBuffer();
      }
    };

    beforeAll(async () => {
      cluster = await startCluster(2, { env });
      [a, b] = cluster.instances as [Instance, Instance];
      admin = await signIn(a.base, ADMIN.username, ADMIN.password);
      for (const [username, role] of [
        ['gina', 'manager'],
        ['hal', 'user'],
        ['ivo', 'manager'],
      ] as const) {
        const created = await api(a.base, admin, 'POST', '/api/users', { username, password: PW, role });
        expect(created.status).toBe(201);
        ids[username] = created.body.id;
      }
    }, 120_000);
    afterAll(() => cluster?.stop());

    it('signed out on A: B answers 401 and the page sends to /login, at once', async () => {
      const token = await signIn(a.base, 'gina', PW);
      await warm(token);
      expect((await api(a.base, token, 'POST', '/api/auth/logout')).status).toBe(204);
      const me = await api(b.base, token, 'GET', '/api/me');
      expect(me.status).toBe(401);
      expect(me.body.error.code).toBe('unauthenticated');
      expect((await api(b.base, token, 'GET', '/api/tasks')).status).toBe(401);
      const page = await fetch(`${b.base}/dashboard`, {
        headers: { cookie: `portal_session=${token}` },
        redirect: 'manual',
      });
      expect(page.status).toBe(302);
      expect(page.headers.get('location')).toMatch(/^\/login/);
    });

    it('deactivated on A: B answers 401 at once', async () => {
      const token = await signIn(a.base, 'hal', PW);
      await warm(token);
      expect((await api(a.base, admin, 'PATCH', `/api/users/${ids.hal}`, { active: false })).status).toBe(
        200,
      );
      expect((await api(b.base, token, 'GET', '/api/tasks')).status).toBe(401);
      expect((await api(b.base, token, 'GET', '/api/me')).status).toBe(401);
    });

    it('demoted on A: B answers as the new role at once (never from the old one)', async () => {
      const token = await signIn(a.base, 'ivo', PW);
      await warm(token);
      expect((await api(b.base, token, 'GET', '/api/metrics')).body.role).toBe('manager');
      expect((await api(a.base, admin, 'PATCH', `/api/users/${ids.ivo}`, { role: 'user' })).status).toBe(200);
      const me = await api(b.base, token, 'GET', '/api/me');
      expect(me.status).toBe(200);
      expect(me.body.role).toBe('user');
      // A manager may list users; a user may not: B must not answer from the role it guessed.
      expect((await api(b.base, token, 'GET', '/api/users')).status).toBe(403);
      expect((await api(b.base, token, 'GET', '/api/metrics')).body.role).toBe('user');
    });

    it('a sign-in ended from another device on A: B refuses it at once', async () => {
      const phone = await signIn(a.base, 'ivo', PW);
      const laptop = await signIn(a.base, 'ivo', PW);
      await warm(phone);
      const sessions = await api(a.base, laptop, 'GET', '/api/me/sessions');
      const other = (sessions.body.items as { id: string; current: boolean }[]).filter((s) => !s.current);
      for (const s of other) {
        expect((await api(a.base, laptop, 'DELETE', `/api/me/sessions/${s.id}`)).status).toBe(204);
      }
      expect((await api(b.base, phone, 'GET', '/api/tasks')).status).toBe(401);
      expect((await api(b.base, laptop, 'GET', '/api/tasks')).status).toBe(200);
    });
  },
);
