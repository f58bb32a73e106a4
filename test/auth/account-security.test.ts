import { sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../src/db/database.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { client, ORIGIN } from '../support/client.ts';
import { type Instance, useCluster } from '../support/cluster.ts';
import { expectErrorBody } from '../support/errors.ts';
import { api, LiveClient, signIn } from '../support/live-client.ts';
import { makeWorld, PASSWORD, type World } from '../support/world.ts';

/**
 * Account security as a person meets it: changing the password (other sign-ins end), "must change
 * password" set by an admin, and two-factor sign-in with an authenticator app (codes made here with
 * otpauth, as the app would), recovery codes, replays, races and throttling. On PGlite and on real
 * PostgreSQL; the sockets part on a real cluster (PostgreSQL + Redis, two instances).
 */

const NEW_PASSWORD = 'a brand new passphrase 42';
const totpOf = (secret: string) =>
  new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) });
/** The code an authenticator shows `steps` time steps from now. */
const codeAt = (secret: string, steps = 0) =>
  totpOf(secret).generate({ timestamp: Date.now() + steps * 30_000 });

describe.each(['pglite', 'pg'] as const)('account security on %s', (driver) => {
  let ctx: TestApp;
  let w: World;
  let n = 0;
  /** A fresh user, signed in: every test gets its own, so throttle counts never cross tests. */
  const person = async (role: 'user' | 'admin' = 'user') => {
    const username = `p${++n}x${driver}`;
    const created = await w.admin.api.post('/api/users', { username, password: PASSWORD, role });
    expect(created.status, created.text).toBe(201);
    const login = await w.anon.post('/api/auth/login', { username, password: PASSWORD });
    expect(login.status, login.text).toBe(200);
    return {
      id: created.body.id as number,
      username,
      token: login.body.token as string,
      api: client(ctx, login.body.token),
    };
  };
  const login = (body: Record<string, string>, address = '10.0.0.1') =>
    w.anon.post('/api/auth/login', body, { 'x-forwarded-for': address });
  /** Enrols `p` and answers the secret and recovery codes; the enrolling code is the one of `step`. */
  const enrol = async (p: Awaited<ReturnType<typeof person>>, step = 0) => {
    const start = await p.api.post('/api/me/mfa/totp');
    expect(start.status, start.text).toBe(200);
    const verify = await p.api.post('/api/me/mfa/totp/verify', { code: codeAt(start.body.secret, step) });
    expect(verify.status, verify.text).toBe(200);
    return {
      secret: start.body.secret as string,
      url: start.body.otpauth_url as string,
      recovery: verify.body.recovery_codes as string[],
    };
  };

  beforeAll(async () => {
    ctx = await startTestApp(driver);
    w = await makeWorld(ctx, `${driver}-`);
  });
  afterAll(() => ctx?.close());

  describe('changing my password', () => {
    it('needs the current password, follows the password rules, and ends my other sign-ins only', async () => {
      const me = await person();
      const other = await w.anon.post('/api/auth/login', { username: me.username, password: PASSWORD });
      const wrong = await me.api.post('/api/me/password', {
        current_password: 'not it at all!',
        new_password: NEW_PASSWORD,
      });
      expectErrorBody(wrong, 403);
      expect(wrong.body.error.code).toBe('wrong_password');
      const short = await me.api.post('/api/me/password', {
        current_password: PASSWORD,
        new_password: 'short',
      });
      expect(expectErrorBody(short, 422)).toEqual(['new_password']);
      const withName = await me.api.post('/api/me/password', {
        current_password: PASSWORD,
        new_password: `my name is ${me.username}`,
      });
      expect(expectErrorBody(withName, 422)).toEqual(['new_password']);
      expect(expectErrorBody(await me.api.post('/api/me/password', {}), 422).sort()).toEqual([
        'current_password',
        'new_password',
      ]);
      const extra = await me.api.post('/api/me/password', {
        current_password: PASSWORD,
        new_password: NEW_PASSWORD,
        x: 1,
      });
      expect(expectErrorBody(extra, 422)).toEqual(['x']);
      // Nothing was changed by the refusals: the other sign-in still works.
      expect((await client(ctx, other.body.token).get('/api/me')).status).toBe(200);

      const ok = await me.api.post('/api/me/password', {
        current_password: PASSWORD,
        new_password: NEW_PASSWORD,
      });
      expect(ok.status, ok.text).toBe(204);
      expect((await me.api.get('/api/me')).status).toBe(200); // this sign-in goes on
      expect((await client(ctx, other.body.token).get('/api/me')).status).toBe(401); // the other one ended
      expect((await login({ username: me.username, password: PASSWORD })).status).toBe(401);
      expect((await login({ username: me.username, password: NEW_PASSWORD })).status).toBe(200);
    });

    // Throttling is the same on every driver: on PGlite only.
    it.runIf(driver === 'pglite')('wrong current passwords are throttled like sign-ins', async () => {
      const limited = await startTestApp('pglite', {
        limits: { perUsername: 3, perAddress: 100, windowSeconds: 600 },
      });
      try {
        const lw = await makeWorld(limited);
        const send = (current: string) =>
          lw.userA.api.post('/api/me/password', { current_password: current, new_password: NEW_PASSWORD });
        for (let i = 0; i < 3; i++)
          expect((await send('wrong password!')).body.error.code).toBe('wrong_password');
        const locked = await send(PASSWORD);
        expectErrorBody(locked, 429);
        expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
        // It counts as failed sign-ins of that username too.
        expect(
          (await lw.anon.post('/api/auth/login', { username: 'ursula', password: PASSWORD })).status,
        ).toBe(429);
      } finally {
        await limited.close();
      }
    });
  });

  describe('must change password at next sign-in', () => {
    it('an admin sets it; then only the password change, sign-out and /api/me answer', async () => {
      const u = await person();
      const set = await w.admin.api.patch(`/api/users/${u.id}`, { must_change_password: true });
      expect(set.status, set.text).toBe(200);
      expect(Object.keys(set.body)).not.toContain('must_change_password'); // the user shape is unchanged
      // Account state, not organisation data: the audit trail's user rows keep their shape.
      expect((await w.admin.api.get('/api/audit?entity=users&limit=200')).text).not.toContain(
        'must_change_password',
      );
      const blocked = await u.api.get('/api/tasks');
      expectErrorBody(blocked, 403);
      expect(blocked.body.error.code).toBe('password_change_required');
      expect((await u.api.patch(`/api/tasks/${w.taskA.id}`, { status: 'done' })).body.error.code).toBe(
        'password_change_required',
      );
      expect((await u.api.get('/api/me')).status).toBe(200);
      const me = await u.api.get('/api/me/security');
      expect(me.status).toBe(200);
      expect(me.body.must_change_password).toBe(true);
      // Pages send the person to the change-password page.
      const cookie = { cookie: `portal_session=${u.token}` };
      for (const path of ['/dashboard', '/tasks', '/account']) {
        const page = await ctx.app.request(`${ORIGIN}${path}`, {
          headers: { host: 'portal.test', ...cookie },
        });
        expect(page.status, path).toBe(302);
        expect(page.headers.get('location')).toBe('/account/password');
      }
      const form = await ctx.app.request(`${ORIGIN}/account/password`, {
        headers: { host: 'portal.test', ...cookie },
      });
      expect(form.status).toBe(200);
      expect(await form.text()).toContain('An admin asked you to choose a new password');

      const changed = await u.api.post('/api/me/password', {
        current_password: PASSWORD,
        new_password: NEW_PASSWORD,
      });
      expect(changed.status, changed.text).toBe(204);
      expect((await u.api.get('/api/tasks')).status).toBe(200);
      expect((await u.api.get('/api/me/security')).body.must_change_password).toBe(false);
    });

    it('an admin resetting a password may set it too; sign-out still works meanwhile', async () => {
      const u = await person();
      const reset = await w.admin.api.patch(`/api/users/${u.id}`, {
        password: 'admin chose this one',
        must_change_password: true,
      });
      expect(reset.status, reset.text).toBe(200);
      const again = await login({ username: u.username, password: 'admin chose this one' });
      expect(again.status).toBe(200);
      const api = client(ctx, again.body.token);
      expect((await api.get('/api/me/security')).body.must_change_password).toBe(true);
      expect((await api.get('/api/projects')).body.error.code).toBe('password_change_required');
      expect((await api.post('/api/auth/logout')).status).toBe(204);
      expect(
        expectErrorBody(await w.admin.api.patch(`/api/users/${u.id}`, { must_change_password: 'yes' }), 422),
      ).toEqual(['must_change_password']);
    });
  });

  describe('two-factor sign-in', () => {
    it('enrol, verify, then sign in only with a current code; a code works once', async () => {
      const u = await person();
      const start = await u.api.post('/api/me/mfa/totp');
      expect(start.status).toBe(200);
      expect(Object.keys(start.body).sort()).toEqual(['otpauth_url', 'secret']);
      expect(start.body.otpauth_url).toMatch(/^otpauth:\/\/totp\/.*secret=/);
      expect(start.body.otpauth_url).toContain(`secret=${start.body.secret}`);
      const secret = start.body.secret as string;
      // Not on until verified: the password alone still signs in.
      expect((await login({ username: u.username, password: PASSWORD })).status).toBe(200);
      const badVerify = await u.api.post('/api/me/mfa/totp/verify', { code: codeAt(secret, 5) });
      expectErrorBody(badVerify, 403);
      expect(badVerify.body.error.code).toBe('wrong_code');
      expect(expectErrorBody(await u.api.post('/api/me/mfa/totp/verify', { code: '12' }), 422)).toEqual([
        'code',
      ]);

      const verify = await u.api.post('/api/me/mfa/totp/verify', { code: codeAt(secret, -1) });
      expect(verify.status, verify.text).toBe(200);
      const codes = verify.body.recovery_codes as string[];
      expect(codes).toHaveLength(10);
      expect(new Set(codes).size).toBe(10);
      expect((await u.api.get('/api/me/security')).body.mfa_enabled).toBe(true);
      expect((await u.api.post('/api/me/mfa/totp')).status).toBe(409); // on: no new secret without turning it off

      const noCode = await login({ username: u.username, password: PASSWORD });
      expectErrorBody(noCode, 401);
      expect(noCode.body.error.code).toBe('mfa_required');
      expect(noCode.body.token).toBeUndefined();
      const wrongPassword = await login({
        username: u.username,
        password: 'wrong password!',
        code: codeAt(secret),
      });
      expect(wrongPassword.body.error.code).toBe('invalid_credentials');
      const wrong = await login({
        username: u.username,
        password: PASSWORD,
        code: '000000' === codeAt(secret) ? '111111' : '000000',
      });
      expectErrorBody(wrong, 401);
      expect(wrong.body.error.code).toBe('invalid_code');
      // One code, kept: computed again, it could be the next step's (a 30 s boundary between the two
      // sign-ins made this test fail once in CI).
      const used = codeAt(secret);
      const signedIn = await login({ username: u.username, password: PASSWORD, code: used });
      expect(signedIn.status, signedIn.text).toBe(200);
      expect(signedIn.body.user.username).toBe(u.username);
      // The same code again, and an older one, are refused: a replay.
      expect((await login({ username: u.username, password: PASSWORD, code: used })).body.error?.code).toBe(
        'invalid_code',
      );
      expect(
        (await login({ username: u.username, password: PASSWORD, code: codeAt(secret, -1) })).status,
      ).toBe(401);
      // The next step's code (one step of clock drift) is still good.
      expect(
        (await login({ username: u.username, password: PASSWORD, code: codeAt(secret, 1) })).status,
      ).toBe(200);
    });

    it('recovery codes sign in once each, in any case and with or without the dash', async () => {
      const u = await person();
      const { recovery } = await enrol(u);
      const first = recovery[0]!;
      expect(first).toMatch(/^[A-Z2-9]{5}-[A-Z2-9]{5}$/);
      const ok = await login({ username: u.username, password: PASSWORD, code: first.toLowerCase() });
      expect(ok.status, ok.text).toBe(200);
      expect((await login({ username: u.username, password: PASSWORD, code: first })).body.error.code).toBe(
        'invalid_code',
      );
      const undashed = await login({
        username: u.username,
        password: PASSWORD,
        code: recovery[1]!.replace('-', ''),
      });
      expect(undashed.status).toBe(200);
    });

    it('one recovery code used by concurrent sign-ins signs in at most once', async () => {
      const u = await person();
      const { recovery } = await enrol(u);
      const results = await Promise.all(
        Array.from({ length: 4 }, () =>
          login({ username: u.username, password: PASSWORD, code: recovery[2]! }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
    });

    it('one TOTP code used by concurrent sign-ins signs in at most once', async () => {
      const u = await person();
      const { secret } = await enrol(u, -1);
      const code = codeAt(secret, 1);
      const results = await Promise.all(
        Array.from({ length: 4 }, () => login({ username: u.username, password: PASSWORD, code })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
    });

    it('turning it off needs a code; an admin can reset it', async () => {
      const u = await person();
      const { secret, recovery } = await enrol(u, -1);
      const wrong = await u.api.send('DELETE', '/api/me/mfa', { code: 'ZZZZZ-ZZZZZ' });
      expectErrorBody(wrong, 403);
      expect(wrong.body.error.code).toBe('wrong_code');
      expect(expectErrorBody(await u.api.send('DELETE', '/api/me/mfa', {}), 422)).toEqual(['code']);
      expect((await u.api.send('DELETE', '/api/me/mfa', { code: recovery[0] })).status).toBe(204);
      expect((await u.api.get('/api/me/security')).body.mfa_enabled).toBe(false);
      expect((await login({ username: u.username, password: PASSWORD })).status).toBe(200);
      expect((await u.api.send('DELETE', '/api/me/mfa', { code: codeAt(secret) })).status).toBe(409);

      // Again on; the admin resets it; the old recovery codes are gone with it.
      const second = await enrol(u, -1);
      expect((await login({ username: u.username, password: PASSWORD })).body.error.code).toBe(
        'mfa_required',
      );
      expect((await w.userA.api.delete(`/api/users/${u.id}/mfa`)).status).toBe(403);
      expect((await w.admin.api.delete('/api/users/999999/mfa')).status).toBe(404);
      expect((await w.admin.api.delete(`/api/users/${u.id}/mfa`)).status).toBe(204);
      expect((await login({ username: u.username, password: PASSWORD })).status).toBe(200);
      const third = await enrol(u, -1);
      const stale = await login({ username: u.username, password: PASSWORD, code: second.recovery[0]! });
      expect(stale.body.error.code).toBe('invalid_code');
      expect(
        (await login({ username: u.username, password: PASSWORD, code: third.recovery[0]! })).status,
      ).toBe(200);
    });

    it.runIf(driver === 'pglite')(
      'wrong codes are throttled like passwords, even with the right password',
      async () => {
        const limited = await startTestApp('pglite', {
          limits: { perUsername: 3, perAddress: 100, windowSeconds: 600 },
        });
        try {
          const lw = await makeWorld(limited);
          const start = await lw.userA.api.post('/api/me/mfa/totp');
          const secret = start.body.secret as string;
          expect(
            (await lw.userA.api.post('/api/me/mfa/totp/verify', { code: codeAt(secret, -1) })).status,
          ).toBe(200);
          const attempt = (code: string) =>
            lw.anon.post('/api/auth/login', { username: 'ursula', password: PASSWORD, code });
          const wrong = codeAt(secret) === '123456' ? '654321' : '123456';
          for (let i = 0; i < 3; i++) expect((await attempt(wrong)).body.error.code).toBe('invalid_code');
          const locked = await attempt(codeAt(secret));
          expectErrorBody(locked, 429);
          expect(locked.headers.get('retry-after')).toBeTruthy();
        } finally {
          await limited.close();
        }
      },
    );

    it('the sign-in page asks for the code as a second step, without the password in the page', async () => {
      const u = await person();
      const { secret } = await enrol(u, -1);
      const post = (fields: Record<string, string>, cookie = '') =>
        ctx.app.request(`${ORIGIN}/login`, {
          method: 'POST',
          headers: {
            host: 'portal.test',
            origin: ORIGIN,
            'content-type': 'application/x-www-form-urlencoded',
            ...(cookie ? { cookie } : {}),
          },
          body: new URLSearchParams(fields).toString(),
        });
      const first = await post({ username: u.username, password: PASSWORD, next: '/tasks' });
      expect(first.status).toBe(303);
      expect(first.headers.get('location')).toBe('/login?step=code&next=%2Ftasks');
      const setCookie = first.headers.get('set-cookie') ?? '';
      expect(setCookie).not.toMatch(/portal_session=/);
      expect(setCookie).toMatch(/portal_mfa_pending=[^;]+;.*HttpOnly/i);
      expect(setCookie).toMatch(/Path=\/login/i);
      const pending = /portal_mfa_pending=([^;]+)/.exec(setCookie)![1]!;
      // The pending token is no sign-in.
      expect((await client(ctx, pending).get('/api/me')).status).toBe(401);
      const page = await ctx.app.request(`${ORIGIN}/login?step=code&next=%2Ftasks`, {
        headers: { host: 'portal.test', cookie: `portal_mfa_pending=${pending}` },
      });
      const html = await page.text();
      expect(html).toContain('name="code"');
      expect(html).not.toContain('name="password"');
      expect(html).not.toContain(PASSWORD);

      const wrong = await post(
        { step: 'code', code: 'ZZZZZ-ZZZZZ', next: '/tasks' },
        `portal_mfa_pending=${pending}`,
      );
      expect(wrong.headers.get('location')).toBe('/login?step=code&error=code&next=%2Ftasks');
      const expired = await post({ step: 'code', code: codeAt(secret), next: '/tasks' });
      expect(expired.headers.get('location')).toBe('/login?error=expired&next=%2Ftasks');
      const done = await post(
        { step: 'code', code: codeAt(secret), next: '/tasks' },
        `portal_mfa_pending=${pending}`,
      );
      expect(done.status).toBe(303);
      expect(done.headers.get('location')).toBe('/tasks');
      expect(done.headers.get('set-cookie')).toMatch(/portal_session=/);
    });

    it('neither secrets nor recovery codes appear in later responses, logs, the change log or the database in clear', async () => {
      const u = await person();
      const { secret, recovery } = await enrol(u, -1);
      await login({ username: u.username, password: PASSWORD, code: recovery[0]! });
      const later = [
        await u.api.get('/api/me'),
        await u.api.get('/api/me/security'),
        await w.admin.api.get(`/api/users/${u.id}`),
        await w.admin.api.get('/api/users?limit=200'),
        await w.admin.api.get('/api/audit?limit=200'),
        await u.api.post('/api/me/mfa/totp'), // 409: already on
      ];
      const secrets = [secret, ...recovery, ...recovery.map((c) => c.replace('-', ''))];
      for (const res of later) for (const s of secrets) expect(res.text).not.toContain(s);
      const logs = ctx.logs.join('\n');
      for (const s of secrets) expect(logs).not.toContain(s);
      const { db } = ctx.database;
      const changes = await query<{ t: string }>(
        db,
        sql`select coalesce(string_agg(to_jsonb(c)::text, ' '), '') as t from change_log c`,
      );
      for (const s of [...secrets, 'user_mfa', 'recovery']) expect(changes[0]!.t).not.toContain(s);
      const stored = await query<{ t: string }>(
        db,
        sql`select (select string_agg(secret, ' ') from user_mfa) || ' ' || (select string_agg(code_hash, ' ') from user_recovery_codes) as t`,
      );
      for (const s of secrets) expect(stored[0]!.t).not.toContain(s);
    });
  });
});

describe('account security across a cluster (PostgreSQL + Redis)', () => {
  // Two instances, the admin signed in on the first; sockets in `open` are closed after (useCluster).
  const on = useCluster(2);
  const open: LiveClient[] = on.sockets as LiveClient[];
  let a: Instance;
  let b: Instance;
  let admin: string;
  beforeAll(() => {
    [a, b] = on.cluster.instances as [Instance, Instance];
    admin = on.admin;
  });

  it('changing my password closes the other sign-ins’ sockets on every instance; mine stays live', async () => {
    expect(
      (await api(a.base, admin, 'POST', '/api/users', { username: 'sara', password: PASSWORD, role: 'user' }))
        .status,
    ).toBe(201);
    const laptop = await signIn(a.base, 'sara', PASSWORD);
    const phone = await signIn(b.base, 'sara', PASSWORD);
    const live = async (inst: Instance, token: string) => {
      const c = await new LiveClient(inst.wsBase, token).connect();
      open.push(c);
      await c.waitFor(() => c.frames.length >= 2);
      return c;
    };
    const laptopA = await live(a, laptop);
    const laptopB = await live(b, laptop);
    const phoneA = await live(a, phone);
    const changed = await api(b.base, phone, 'POST', '/api/me/password', {
      current_password: PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(changed.status).toBe(204);
    for (const c of [laptopA, laptopB]) await c.waitFor(() => c.closeCode !== undefined);
    expect([laptopA.closeCode, laptopB.closeCode]).toEqual([4401, 4401]);
    expect((await api(a.base, laptop, 'GET', '/api/me')).status).toBe(401);
    expect(phoneA.closeCode).toBeUndefined();
    expect((await api(a.base, phone, 'GET', '/api/me')).status).toBe(200);
  });

  it('two-factor sign-in works on every instance with the shared key; a code is spent everywhere', async () => {
    expect(
      (await api(a.base, admin, 'POST', '/api/users', { username: 'tom', password: PASSWORD, role: 'user' }))
        .status,
    ).toBe(201);
    const tom = await signIn(a.base, 'tom', PASSWORD);
    const start = await api(a.base, tom, 'POST', '/api/me/mfa/totp');
    expect(start.status).toBe(200);
    const secret = start.body.secret as string;
    expect(
      (await api(b.base, tom, 'POST', '/api/me/mfa/totp/verify', { code: codeAt(secret, -1) })).status,
    ).toBe(200);
    const loginAt = (inst: Instance, code?: string) =>
      fetch(`${inst.base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'tom', password: PASSWORD, ...(code ? { code } : {}) }),
      });
    expect((await loginAt(a)).status).toBe(401);
    const code = codeAt(secret);
    const both = await Promise.all([loginAt(a, code), loginAt(b, code)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 401]);
  });
});
