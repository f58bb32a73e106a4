import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameUser } from '../../src/auth/middleware.ts';
import { findSessionSignIn } from '../../src/auth/sessions.ts';
import { query } from '../../src/db/database.ts';
import { changesSignIns, signInWriteCount } from '../../src/db/sign-in-writes.ts';
import { createUser } from '../../src/users/rules.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { ORIGIN } from '../support/client.ts';

const PW = 'a-long-user-password';
const NEW_PW = 'another-long-password-2';

/**
 * No write path may leave a cached sign-in that differs from the database once it has answered.
 * Every unsafe route of the sign-in and user features is run (the list below must name each one:
 * a new route fails the first test until it is added), with the caller's and the target's tokens
 * cached beforehand; afterwards every cached entry must equal what the sign-in check reads now.
 * Runs in one process on PGlite with the embedded cache, as `npm start` does; the barrier that
 * invalidates is the same one the Redis adapter is driven by.
 */
describe('every write that changes a sign-in invalidates the sign-in cache before it answers', () => {
  let t: TestApp;
  let adminToken: string;
  let serial = 0;

  const request = async (
    path: string,
    init: { method: string; token?: string; cookie?: string; json?: unknown; form?: Record<string, string> },
  ): Promise<Response> => {
    const headers: Record<string, string> = { host: 'portal.test' };
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.cookie) {
      headers.cookie = `portal_session=${init.cookie}`;
      headers.origin = ORIGIN;
    }
    let body: string | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    return t.app.request(`${ORIGIN}${path}`, {
      method: init.method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
  };
  const login = async (username: string, password = PW) => {
    const res = await request('/api/auth/login', { method: 'POST', json: { username, password } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { token: string }).token;
  };
  const claims = (token: string) => t.tokens.verifySync(token)!;

  /** A fresh user with two sign-ins (`one`, `two`), each answered once so that it is cached. */
  const target = async (role: 'manager' | 'user' = 'manager') => {
    const username = `w${++serial}`;
    const user = await createUser(t.database.db, null, { username, password: PW, role });
    const one = await login(username);
    const two = await login(username);
    return { id: user.id, username, one, two };
  };

  /** Every token, cached first; after `run`, each cache entry must be what the database says now. */
  const check = async (
    tokens: string[],
    run: () => Promise<Response>,
    expectStatus: (s: number) => boolean,
  ) => {
    for (const token of tokens) {
      await request('/api/me', { method: 'GET', token });
      const c = claims(token);
      expect(
        t.signInCache!.get(token) !== undefined ||
          !(await findSessionSignIn(t.database.db, c.userId, c.sessionId)),
      ).toBe(true);
    }
    const res = await run();
    await res.arrayBuffer();
    expect(expectStatus(res.status), `status ${res.status}`).toBe(true);
    for (const token of tokens) {
      const cached = t.signInCache!.get(token);
      if (!cached) continue;
      const c = claims(token);
      const now = (await findSessionSignIn(t.database.db, c.userId, c.sessionId))?.user;
      expect(now, 'a cached sign-in the database no longer has').toBeDefined();
      expect(sameUser(cached.user, now!), 'a cached sign-in that differs from the database').toBe(true);
    }
  };
  const ok = (s: number) => s >= 200 && s < 400;
  const any = (s: number) => s < 500;

  type Scenario = () => Promise<void>;
  const scenarios: Record<string, Scenario[]> = {
    'POST /api/auth/login': [
      async () => {
        const x = await target();
        await check(
          [x.one],
          () => request('/api/auth/login', { method: 'POST', json: { username: x.username, password: PW } }),
          ok,
        );
      },
    ],
    'POST /api/auth/logout': [
      async () => {
        const x = await target();
        await check([x.one, x.two], () => request('/api/auth/logout', { method: 'POST', token: x.one }), ok);
      },
    ],
    'POST /login': [
      async () => {
        const x = await target();
        await check(
          [x.one],
          () =>
            request('/login', {
              method: 'POST',
              cookie: x.one,
              form: { username: x.username, password: PW },
            }),
          ok,
        );
      },
    ],
    'POST /logout': [
      async () => {
        const x = await target();
        await check([x.one, x.two], () => request('/logout', { method: 'POST', cookie: x.one }), ok);
      },
    ],
    'DELETE /api/me/sessions/:sid': [
      async () => {
        const x = await target();
        await check(
          [x.one, x.two],
          () => request(`/api/me/sessions/${claims(x.one).sessionId}`, { method: 'DELETE', token: x.two }),
          ok,
        );
      },
    ],
    'POST /api/me/password': [
      async () => {
        const x = await target();
        await check(
          [x.one, x.two],
          () =>
            request('/api/me/password', {
              method: 'POST',
              token: x.two,
              json: { current_password: PW, new_password: NEW_PW },
            }),
          ok,
        );
      },
    ],
    'POST /api/me/mfa/totp': [
      async () => {
        const x = await target();
        await check([x.one], () => request('/api/me/mfa/totp', { method: 'POST', token: x.one }), ok);
      },
    ],
    'POST /api/me/mfa/totp/verify': [
      async () => {
        const x = await target();
        await check(
          [x.one],
          () =>
            request('/api/me/mfa/totp/verify', { method: 'POST', token: x.one, json: { code: '000000' } }),
          any,
        );
      },
    ],
    'DELETE /api/me/mfa': [
      async () => {
        const x = await target();
        await check(
          [x.one],
          () => request('/api/me/mfa', { method: 'DELETE', token: x.one, json: { code: '000000' } }),
          any,
        );
      },
    ],
    'DELETE /api/users/:id/mfa': [
      async () => {
        const x = await target();
        await check(
          [x.one, adminToken],
          () => request(`/api/users/${x.id}/mfa`, { method: 'DELETE', token: adminToken }),
          ok,
        );
      },
    ],
    'POST /account/sessions/:sid/end': [
      async () => {
        const x = await target();
        await check(
          [x.one, x.two],
          () =>
            request(`/account/sessions/${claims(x.one).sessionId}/end`, { method: 'POST', cookie: x.two }),
          ok,
        );
      },
    ],
    'POST /account/sessions/end-others': [
      async () => {
        const x = await target();
        await check(
          [x.one, x.two],
          () => request('/account/sessions/end-others', { method: 'POST', cookie: x.two }),
          ok,
        );
      },
    ],
    'POST /account/password': [
      async () => {
        const x = await target();
        await check(
          [x.one, x.two],
          () =>
            request('/account/password', {
              method: 'POST',
              cookie: x.two,
              form: { current_password: PW, new_password: NEW_PW, confirm_password: NEW_PW },
            }),
          ok,
        );
      },
    ],
    'POST /account/mfa/start': [
      async () => {
        const x = await target();
        await check([x.one], () => request('/account/mfa/start', { method: 'POST', cookie: x.one }), any);
      },
    ],
    'POST /account/mfa/verify': [
      async () => {
        const x = await target();
        await check(
          [x.one],
          () => request('/account/mfa/verify', { method: 'POST', cookie: x.one, form: { code: '000000' } }),
          any,
        );
      },
    ],
    'POST /account/mfa/disable': [
      async () => {
        const x = await target();
        await check(
          [x.one],
          () => request('/account/mfa/disable', { method: 'POST', cookie: x.one, form: { code: '000000' } }),
          any,
        );
      },
    ],
    'POST /api/users': [
      async () => {
        await check(
          [adminToken],
          () =>
            request('/api/users', {
              method: 'POST',
              token: adminToken,
              json: { username: `n${++serial}`, password: PW, role: 'user' },
            }),
          ok,
        );
      },
    ],
    'PATCH /api/users/:id': [
      { role: 'user' },
      { display_name: 'Someone Else' },
      { active: false },
      { must_change_password: true },
      { password: NEW_PW },
      { password: NEW_PW, role: 'user' },
    ].map((patch) => async () => {
      const x = await target();
      await check(
        [x.one, x.two, adminToken],
        () => request(`/api/users/${x.id}`, { method: 'PATCH', token: adminToken, json: patch }),
        ok,
      );
    }),
    'DELETE /api/users/:id': [
      async () => {
        const x = await target('user');
        await check(
          [x.one, x.two, adminToken],
          () => request(`/api/users/${x.id}`, { method: 'DELETE', token: adminToken }),
          ok,
        );
      },
    ],
    'POST /api/users/:id/hand-over': [
      async () => {
        const x = await target();
        const y = await target();
        await check(
          [x.one, y.one],
          () =>
            request(`/api/users/${x.id}/hand-over`, {
              method: 'POST',
              token: adminToken,
              json: { owner_id: y.id },
            }),
          ok,
        );
      },
    ],
    'POST /users/new': [
      async () => {
        await check(
          [adminToken],
          () =>
            request('/users/new', {
              method: 'POST',
              cookie: adminToken,
              form: { username: `n${++serial}`, password: PW, role: 'user' },
            }),
          ok,
        );
      },
    ],
    'POST /users/:id/role': [
      async () => {
        const x = await target();
        await check(
          [x.one, x.two],
          () =>
            request(`/users/${x.id}/role`, { method: 'POST', cookie: adminToken, form: { role: 'user' } }),
          ok,
        );
      },
    ],
    'POST /users/:id/active': [
      async () => {
        const x = await target();
        await check(
          [x.one, x.two],
          () =>
            request(`/users/${x.id}/active`, {
              method: 'POST',
              cookie: adminToken,
              form: { active: 'false' },
            }),
          ok,
        );
      },
    ],
    'POST /users/:id/hand-over': [
      async () => {
        const x = await target();
        const y = await target();
        await check(
          [x.one, y.one],
          () =>
            request(`/users/${x.id}/hand-over`, {
              method: 'POST',
              cookie: adminToken,
              form: { owner_id: String(y.id) },
            }),
          ok,
        );
      },
    ],
    'POST /users/:id/password': [
      async () => {
        const x = await target();
        await check(
          [x.one, x.two],
          () =>
            request(`/users/${x.id}/password`, {
              method: 'POST',
              cookie: adminToken,
              form: { password: NEW_PW, must_change_password: 'true' },
            }),
          ok,
        );
      },
    ],
    'POST /users/:id/must-change': [
      async () => {
        const x = await target();
        await check(
          [x.one, x.two],
          () =>
            request(`/users/${x.id}/must-change`, {
              method: 'POST',
              cookie: adminToken,
              form: { must_change_password: 'true' },
            }),
          ok,
        );
      },
    ],
    'POST /users/:id/mfa-reset': [
      async () => {
        const x = await target();
        await check(
          [x.one],
          () => request(`/users/${x.id}/mfa-reset`, { method: 'POST', cookie: adminToken }),
          ok,
        );
      },
    ],
    'POST /users/:id/delete': [
      async () => {
        const x = await target('user');
        await check(
          [x.one, x.two],
          () => request(`/users/${x.id}/delete`, { method: 'POST', cookie: adminToken }),
          ok,
        );
      },
    ],
  };

  beforeAll(async () => {
    t = await startTestApp('pglite');
    await createUser(t.database.db, null, { username: 'boss', password: PW, role: 'admin' });
    adminToken = await login('boss');
  }, 60_000);
  afterAll(() => t?.close());

  it('names every unsafe route of the sign-in, account and user features', () => {
    const routes = new Set(
      t.app.routes
        .filter((r) => !['GET', 'HEAD', 'ALL', 'OPTIONS'].includes(r.method))
        .map((r) => `${r.method} ${r.path}`)
        .filter((r) => /\/(auth|login|logout|me|account|users)\b/.test(r)),
    );
    expect([...routes].sort()).toEqual(Object.keys(scenarios).sort());
  });

  for (const [route, runs] of Object.entries(scenarios)) {
    it(route, async () => {
      for (const run of runs) await run();
    });
  }

  it('the cache was really used, and written routes did invalidate', async () => {
    const lookups = await t.metrics.signInLookups.get();
    const hits = lookups.values.find((v) => v.labels.outcome === 'hit')?.value ?? 0;
    expect(hits).toBeGreaterThan(20);
    const sent = (await t.metrics.signInInvalidations.get()).values[0]?.value ?? 0;
    expect(sent).toBeGreaterThan(10);
  });

  it('a cached sign-in costs no statement; "last used" is still stamped once a minute', async () => {
    const x = await target();
    const db = t.database.db;
    const statements = async (path: string) => {
      const before = t.database.stats.statements;
      const res = await request(path, { method: 'GET', token: x.one });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      return t.database.stats.statements - before;
    };
    await statements('/api/me'); // fills the cache
    expect(await statements('/api/me')).toBe(0);
    expect(await statements('/api/tasks?limit=5')).toBe(1);
    // The session was last stamped two minutes ago, as far as the database and the cache know.
    const sid = claims(x.one).sessionId;
    await db.execute(
      sql`update auth_sessions set last_used_at = now() - interval '2 minutes' where id = ${sid}`,
    );
    t.signInCache!.get(x.one)!.lastUsedAt -= 120_000;
    const writes = signInWriteCount();
    expect(await statements('/api/me')).toBe(1); // the stamp, not awaited
    await new Promise((r) => setTimeout(r, 50));
    // The stamp is not a change of the sign-in: it must not invalidate every instance's cache.
    expect(signInWriteCount()).toBe(writes);
    const [row] = await query<{ last_used_at: string | Date }>(
      db,
      sql`select last_used_at from auth_sessions where id = ${sid}`,
    );
    expect(Date.now() - new Date(row!.last_used_at).getTime()).toBeLessThan(10_000);
    expect(await statements('/api/me')).toBe(0); // once a minute, not on every request
  });

  it('the statements that change a sign-in, and the "last used" stamp that does not', () => {
    for (const sql of [
      'update "users" set "role" = $1 where "users"."id" = $2',
      'with changed as (update "users" set "active" = $1 where "users"."id" = $2 returning *), ended as (update "auth_sessions" set "revoked_at" = now() where "auth_sessions"."user_id" in (select id from changed)) select * from changed',
      'delete from "users" where "users"."id" = $1',
      'update "auth_sessions" set "revoked_at" = $1 where ("auth_sessions"."id" = $2)',
      'DELETE FROM auth_sessions WHERE expires_at < now()',
      'truncate table users cascade',
      'UPDATE public.users SET display_name = $1',
    ])
      expect(changesSignIns(sql), sql).toBe(true);
    for (const sql of [
      'update "auth_sessions" set "last_used_at" = $1 where ("auth_sessions"."id" = $2 and "auth_sessions"."last_used_at" < $3)',
      'insert into "auth_sessions" ("id", "user_id") values ($1, $2)',
      'insert into "users" ("username") values ($1)',
      'update "user_mfa" set "enabled_at" = $1',
      'delete from "user_recovery_codes" where "user_id" = $1',
      'select * from "users" where "users"."id" = $1',
      'update "tasks" set "title" = $1',
    ])
      expect(changesSignIns(sql), sql).toBe(false);
  });
});
