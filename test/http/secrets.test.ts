import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query } from '../../src/db/database.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { client, ORIGIN } from '../support/client.ts';
import { type ContractCheck, validateResponses } from '../support/openapi-contract.ts';
import { makeWorld, PASSWORD, type World } from '../support/world.ts';

/**
 * No password, password hash or token ever leaves the portal in a response (body or headers other
 * than the sign-in's own Set-Cookie) or in a log line, through a realistic session: sign-ins, user
 * management by API and by page, password resets, lists, the audit log, failures and sign-outs.
 */
describe('secrets stay secret (pglite)', () => {
  let ctx: TestApp;
  let w: World;
  /** Every response seen: the text of its body and its headers (Set-Cookie apart). */
  const seen: { label: string; text: string }[] = [];
  /** Sign-in answers: the one place a token may appear, its own. */
  const issuing: { label: string; text: string; token: string }[] = [];

  const headersText = (headers: Headers) =>
    [...headers].filter(([name]) => name !== 'set-cookie').map(([n, v]) => `${n}: ${v}`);

  let contract: ContractCheck;
  beforeAll(async () => {
    ctx = await startTestApp('pglite', { limits: { perUsername: 2, perAddress: 100, windowSeconds: 60 } });
    contract = await validateResponses(ctx);
    w = await makeWorld(ctx);
  });
  afterAll(async () => {
    await ctx?.close();
    // The check ran on this file's responses, not on none of them.
    expect(contract.validated).toBeGreaterThan(20);
  });

  it('through a realistic session of sign-ins, user management, audit and failures', async () => {
    const passwords = [
      PASSWORD,
      'first secret of hers 1',
      'reset secret of hers 2',
      'page reset secret 3',
      'page created secret 4',
      'wrong password typed',
      'unlucky password 5555',
      'doomed reset secret 6',
    ];
    const tokens: string[] = [w.admin.token, w.managerA.token, w.userA.token, w.userB.token];

    const api = async (
      who: ReturnType<typeof client>,
      method: string,
      path: string,
      body?: unknown,
      headers?: Record<string, string>,
    ) => {
      const res = await who.send(method, path, body, headers);
      seen.push({ label: `${method} ${path}`, text: [res.text, ...headersText(res.headers)].join('\n') });
      return res;
    };
    const signIn = async (username: string, password: string) => {
      const res = await w.anon.post('/api/auth/login', { username, password });
      if (res.status === 200) {
        tokens.push(res.body.token);
        issuing.push({ label: `login ${username}`, text: res.text, token: res.body.token });
      } else {
        seen.push({ label: `login ${username}`, text: [res.text, ...headersText(res.headers)].join('\n') });
      }
      return res;
    };
    /** A browser: form posts and pages with the session cookie (and the Origin the portal checks). */
    const browserSignIn = async (username: string, password: string) => {
      const res = await ctx.app.request(`${ORIGIN}/login`, {
        method: 'POST',
        headers: { host: 'portal.test', origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username, password }).toString(),
      });
      seen.push({
        label: `form login ${username}`,
        text: [await res.text(), ...headersText(res.headers)].join('\n'),
      });
      const cookie = /portal_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
      if (cookie) tokens.push(cookie);
      return cookie;
    };
    const page = async (cookie: string, method: string, path: string, form?: Record<string, string>) => {
      const res = await ctx.app.request(`${ORIGIN}${path}`, {
        method,
        headers: {
          host: 'portal.test',
          origin: ORIGIN,
          cookie: `portal_session=${cookie}`,
          ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(form ? { body: new URLSearchParams(form).toString() } : {}),
      });
      const text = await res.text();
      seen.push({ label: `page ${method} ${path}`, text: [text, ...headersText(res.headers)].join('\n') });
      return { status: res.status, text };
    };

    // An admin creates a user with a password; she signs in and looks around.
    const created = await api(w.admin.api, 'POST', '/api/users', {
      username: 'nadia',
      password: 'first secret of hers 1',
      role: 'user',
      display_name: 'Nadia',
    });
    expect(created.status).toBe(201);
    const login = await signIn('nadia', 'first secret of hers 1');
    expect(login.status).toBe(200);
    const nadia = client(ctx, login.body.token);
    expect((await api(nadia, 'GET', '/api/me')).status).toBe(200);
    expect((await api(nadia, 'GET', '/api/metrics')).status).toBe(200);
    expect((await api(nadia, 'GET', '/api/me/sessions')).status).toBe(200);

    // The admin resets her password by API: her sign-in ends.
    const reset = await api(w.admin.api, 'PATCH', `/api/users/${created.body.id}`, {
      password: 'reset secret of hers 2',
    });
    expect(reset.status).toBe(200);
    expect((await api(nadia, 'GET', '/api/me')).status).toBe(401);
    expect((await signIn('nadia', 'reset secret of hers 2')).status).toBe(200);

    // Failed sign-ins, up to the throttle; an unknown user; malformed sign-ins.
    for (let i = 0; i < 3; i++) await signIn('nadia', 'wrong password typed');
    expect((await signIn('ghost', 'wrong password typed')).status).toBe(401);
    await api(w.anon, 'POST', '/api/auth/login', { username: 'root', password: ['wrong password typed'] });
    await api(w.anon, 'POST', '/api/auth/login', {
      username: 'root',
      password: 'wrong password typed',
      x: 1,
    });
    expect(await browserSignIn('root', 'wrong password typed')).toBeUndefined();

    // Creations that fail: a taken name, a short password, a bad role next to a good password.
    await api(w.admin.api, 'POST', '/api/users', {
      username: 'nadia',
      password: 'another long password',
      role: 'user',
    });
    await api(w.admin.api, 'POST', '/api/users', { username: 'pat', password: 'short', role: 'user' });
    await api(w.admin.api, 'POST', '/api/users', {
      username: 'pat',
      password: 'page created secret 4',
      role: 'boss',
    });

    // Lists and lookups by admins and managers, the audit log whole and filtered.
    expect((await api(w.admin.api, 'GET', '/api/users?limit=200')).status).toBe(200);
    expect((await api(w.managerA.api, 'GET', '/api/users?q=nad')).status).toBe(200);
    expect((await api(w.admin.api, 'GET', `/api/users/${created.body.id}`)).status).toBe(200);
    expect((await api(w.admin.api, 'GET', '/api/metrics')).status).toBe(200);
    expect((await api(w.managerA.api, 'GET', '/api/metrics')).status).toBe(200);
    const audit = await api(w.admin.api, 'GET', '/api/audit?entity=users&limit=200');
    expect(audit.status).toBe(200);
    expect((await api(w.admin.api, 'GET', '/api/audit?limit=200')).status).toBe(200);
    expect((await api(w.admin.api, 'GET', `/api/audit?row_id=${created.body.id}`)).status).toBe(200);

    // The same by the pages: the users page, a creation that fails validation (the form comes back
    // filled in, but never with the password), one that works, a reset, the audit page.
    const adminCookie = await browserSignIn('root', PASSWORD);
    expect(adminCookie).toBeDefined();
    expect((await page(adminCookie!, 'GET', '/users')).status).toBe(200);
    const refused = await page(adminCookie!, 'POST', '/users/new', {
      username: 'a b',
      password: 'page created secret 4',
      role: 'user',
    });
    expect(refused.status).toBe(200);
    expect(refused.text).toContain('a b');
    const made = await page(adminCookie!, 'POST', '/users/new', {
      username: 'paula',
      password: 'page created secret 4',
      role: 'user',
    });
    expect(made.text).toContain('Created paula');
    await page(adminCookie!, 'POST', `/users/${created.body.id}/password`, {
      password: 'page reset secret 3',
    });
    expect((await signIn('paula', 'page created secret 4')).status).toBe(200);
    expect((await page(adminCookie!, 'GET', '/audit')).status).toBe(200);
    expect((await page(adminCookie!, 'GET', '/account')).status).toBe(200);
    const userCookie = await browserSignIn('ursula', PASSWORD);
    expect(userCookie).toBeDefined();
    expect((await page(userCookie!, 'GET', '/dashboard')).status).toBe(200);
    expect(
      (await api(client(ctx), 'GET', '/api/me', undefined, { cookie: `portal_session=${userCookie}` }))
        .status,
    ).toBe(200);

    // An unexpected database failure while writing a password hash: a 500, logged without the
    // query's parameters (the hash), and answered without them.
    await ctx.database.db.execute(
      sql.raw(`create function secrets_test_fail() returns trigger language plpgsql as $$
        begin raise exception 'disk on fire' using errcode = 'XX001'; end $$`),
    );
    await ctx.database.db.execute(
      sql.raw(`create trigger secrets_test_fail before insert or update on users for each row
        when (new.display_name = 'doomed') execute function secrets_test_fail()`),
    );
    const errorsBefore = ctx.logs.filter((l) => l.includes('unhandled error')).length;
    const doomed = await api(w.admin.api, 'POST', '/api/users', {
      username: 'victor',
      password: 'unlucky password 5555',
      role: 'user',
      display_name: 'doomed',
    });
    expect(doomed.status).toBe(500);
    const doomedReset = await api(w.admin.api, 'PATCH', `/api/users/${w.userB.id}`, {
      password: 'doomed reset secret 6',
      display_name: 'doomed',
    });
    expect(doomedReset.status).toBe(500);
    await ctx.database.db.execute(sql.raw('drop trigger secrets_test_fail on users'));
    await ctx.database.db.execute(sql.raw('drop function secrets_test_fail()'));
    const failures = ctx.logs.filter((l) => l.includes('unhandled error')).slice(errorsBefore);
    expect(failures).toHaveLength(2);

    // Sign-outs: by API and by page; the tokens are refused afterwards.
    expect((await api(w.userA.api, 'POST', '/api/auth/logout')).status).toBe(204);
    expect((await api(w.userA.api, 'GET', '/api/me')).status).toBe(401);
    expect((await page(adminCookie!, 'POST', '/logout')).status).toBe(303);

    // The audit trail records that a password changed, never the hash; the same for page resets.
    const entries = (
      await api(w.admin.api, 'GET', `/api/audit?entity=users&row_id=${created.body.id}&limit=200`)
    ).body.items as { op: string; before: unknown; after: Record<string, unknown> }[];
    const updates = entries.filter((e) => e.op === 'update');
    expect(updates.length).toBe(2);
    for (const update of updates) expect(update.after).toEqual({ password_changed: true });
    const insert = entries.find((e) => e.op === 'insert')!;
    expect(Object.keys(insert.after).sort()).toEqual(
      ['active', 'created_at', 'display_name', 'id', 'role', 'username'].sort(),
    );
    // The database itself does hold hashes: the scan below looks for something that exists.
    const hashes = (
      await query<{ password_hash: string }>(ctx.database.db, sql`select password_hash from users`)
    ).map((r) => r.password_hash);
    expect(hashes.every((h) => h.startsWith('$argon2id$'))).toBe(true);

    const jwt = /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/;
    const common = (label: string, text: string) => {
      for (const secret of [...passwords, ...tokens, ...hashes]) expect(text, label).not.toContain(secret);
      expect(text, label).not.toContain('$argon2');
      expect(text, label).not.toMatch(jwt);
    };
    expect(seen.length).toBeGreaterThan(30);
    for (const { label, text } of seen) {
      common(label, text);
      expect(text, label).not.toContain('password_hash');
    }
    // Log lines, including those of the unexpected failures above.
    expect(ctx.logs.length).toBeGreaterThanOrEqual(seen.length);
    ctx.logs.forEach((text, i) => {
      common(`log line ${i}`, text);
      expect(text, `log line ${i}`).not.toContain('password_hash');
    });
    for (const { label, text, token } of issuing) {
      for (const secret of [...passwords, ...hashes]) expect(text, label).not.toContain(secret);
      for (const other of tokens.filter((t) => t !== token)) expect(text, label).not.toContain(other);
      expect(text, label).not.toContain('$argon2');
      expect(text, label).not.toContain('password_hash');
    }
    expect(issuing.length).toBe(3);
    // Still useful to an operator: which statement, the database's reason, and where.
    for (const line of failures) {
      expect(line).toMatch(/Failed query: (insert|update) users: disk on fire/);
      expect(line).toContain('XX001');
      expect(line).toContain('src/users/rules.ts');
    }
  });
});
