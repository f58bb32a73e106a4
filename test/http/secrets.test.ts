import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { client, ORIGIN, type Reply } from '../support/client.js';
import { makeWorld, PASSWORD, type World } from '../support/world.js';

/** No password, password hash or token ever leaves in a response body or a log line. */
describe('secrets stay secret', () => {
  let ctx: TestApp;
  let w: World;
  const replies: Reply[] = [];
  const record = async (reply: Promise<Reply>) => {
    const r = await reply;
    replies.push(r);
    return r;
  };
  beforeAll(async () => {
    ctx = await startTestApp('pglite', { limits: { perUsername: 2, perAddress: 100, windowSeconds: 60 } });
    w = await makeWorld(ctx);
  });
  afterAll(() => ctx?.close());

  it('through a realistic session of sign-ins, user management, audit and failures', async () => {
    const secrets = [PASSWORD, 'first secret of hers 1', 'reset secret of hers 2', 'wrong password typed'];
    const tokens: string[] = [w.admin.token, w.userA.token];
    const created = await record(
      w.admin.api.post('/api/users', { username: 'nadia', password: 'first secret of hers 1', role: 'user' }),
    );
    // The sign-in answer is the one place its own token may appear: scanned for everything else.
    const login = await w.anon.post('/api/auth/login', {
      username: 'nadia',
      password: 'first secret of hers 1',
    });
    const issuing = [login.text];
    tokens.push(login.body.token);
    const nadia = client(ctx, login.body.token);
    await record(nadia.get('/api/me'));
    await record(nadia.get('/api/metrics'));
    await record(w.admin.api.patch(`/api/users/${created.body.id}`, { password: 'reset secret of hers 2' }));
    // The reset ends nadia's sign-in.
    expect((await record(nadia.get('/api/me'))).status).toBe(401);
    await record(w.anon.post('/api/auth/login', { username: 'nadia', password: 'wrong password typed' }));
    await record(w.anon.post('/api/auth/login', { username: 'nadia', password: 'wrong password typed' }));
    await record(w.anon.post('/api/auth/login', { username: 'nadia', password: 'wrong password typed' }));
    await record(w.anon.post('/api/auth/login', { username: 'ghost', password: 'wrong password typed' }));
    await record(w.admin.api.get('/api/users?limit=200'));
    await record(w.admin.api.get(`/api/users/${created.body.id}`));
    const audit = await record(w.admin.api.get('/api/audit?entity=users&limit=200'));
    await record(
      w.admin.api.post('/api/users', { username: 'nadia', password: 'another long password', role: 'user' }),
    );
    await record(w.admin.api.post('/api/users', { username: 'pat', password: 'short', role: 'user' }));
    const form = await ctx.app.request(`${ORIGIN}/login`, {
      method: 'POST',
      headers: { host: 'portal.test', origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'ursula', password: PASSWORD }).toString(),
    });
    const cookieToken = /portal_session=([^;]+)/.exec(form.headers.get('set-cookie') ?? '')![1]!;
    tokens.push(cookieToken);
    replies.push({ status: form.status, body: undefined, text: await form.text(), headers: form.headers });
    await record(client(ctx).get('/api/me', { cookie: `portal_session=${cookieToken}` }));
    await record(w.userA.api.post('/api/auth/logout'));
    await record(w.userA.api.get('/api/me'));

    // The audit trail records that a password changed, never the hash.
    const change = audit.body.items.find(
      (e: { row_id: number; op: string; after: Record<string, unknown> }) =>
        e.row_id === created.body.id && e.op === 'update',
    );
    expect(change.after).toEqual({ password_changed: true });

    const everything = [...replies.map((r) => r.text), ...ctx.logs];
    expect(ctx.logs.length).toBeGreaterThanOrEqual(replies.length);
    for (const text of everything) {
      for (const secret of [...secrets, ...tokens]) expect(text).not.toContain(secret);
      expect(text).not.toContain('$argon2');
      expect(text).not.toContain('password_hash');
    }
    for (const text of issuing) {
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toContain('$argon2');
    }
  });
});
