import { connect, createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Cluster, type Instance, startCluster, startInstance } from '../support/cluster.ts';
import { REDIS_URL } from '../support/env.ts';
import { api, type Reply, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';
/** What the checks below read of an answer's body. */
type Body = { role?: string; display_name?: string; error?: { code: string } };
const NEW_PW = 'another-long-password-2';

/** A counter of an instance's /metrics (internal port), summed over the lines that match. */
async function metric(instance: Instance, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${instance.metricsBase}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}
/** A TCP relay to Redis that can be frozen: nothing passes either way, no connection closes. */
async function freezableRelay(target: URL) {
  const pairs: [Socket, Socket][] = [];
  let frozen = false;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    pairs.push([client, upstream]);
    if (frozen) for (const s of [client, upstream]) s.pause();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => {
      frozen = true;
      for (const [c, u] of pairs) {
        c.unpipe(u);
        u.unpipe(c);
        c.pause();
        u.pause();
      }
    },
    thaw: () => {
      frozen = false;
      for (const [c, u] of pairs) {
        c.pipe(u);
        u.pipe(c);
        c.resume();
        u.resume();
      }
    },
    close: () => {
      for (const [c, u] of pairs) {
        c.destroy();
        u.destroy();
      }
      server.close();
    },
  };
}

const hits = (i: Instance) => metric(i, 'portal_sign_in_cache_lookups_total', 'outcome="hit"');

/**
 * The sign-in cache (src/auth/sign-in-cache.ts) on three real processes sharing one PostgreSQL and
 * one Redis: B and C answer a token from their caches; every kind of change made on A shows on the
 * very next request on B and C — and on every request started after A answered — while other
 * requests of the same token are in flight on B and C the whole time.
 */
describe('sign-in cache on a 3-instance cluster: a change made on A applies to the very next request on B and C', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  let c: Instance;
  let admin: string;
  let serial = 0;

  const newUser = async (role: 'user' | 'manager' = 'manager') => {
    const username = `cache${++serial}`;
    const created = await api(a.base, admin, 'POST', '/api/users', { username, password: PW, role });
    expect(created.status).toBe(201);
    return { id: created.body.id as number, username };
  };

  /** B and C have answered `token` from their caches (metrics show hits). */
  const warm = async (token: string) => {
    const before = [await hits(b), await hits(c)];
    for (let i = 0; i < 20; i++) {
      const replies = await Promise.all([
        api(b.base, token, 'GET', '/api/me'),
        api(c.base, token, 'GET', '/api/me'),
        api(b.base, token, 'GET', '/api/tasks?limit=5'),
        api(c.base, token, 'GET', '/api/tasks?limit=5'),
      ]);
      for (const r of replies) expect(r.status).toBe(200);
    }
    expect(await hits(b)).toBeGreaterThan(before[0]! + 20);
    expect(await hits(c)).toBeGreaterThan(before[1]! + 20);
  };

  /**
   * Requests of `token` in flight on B and C, back to back, for as long as `change` runs on A and a
   * little after; each remembers when it was sent. Then every request sent after A's answer
   * arrived must satisfy `changed`, and so must one more request on each of B and C.
   */
  const race = async (
    token: string,
    path: string,
    change: () => Promise<Reply>,
    changedStatus: number,
    changed: (r: Reply<Body>) => boolean,
  ) => {
    let answeredAt = Number.POSITIVE_INFINITY;
    let stop = false;
    const seen: { sentAt: number; reply: Reply<Body>; on: string }[] = [];
    const load = (on: Instance) =>
      (async () => {
        while (!stop) {
          const sentAt = performance.now();
          const reply = await api(on.base, token, 'GET', path);
          seen.push({ sentAt, reply, on: on.base });
        }
      })();
    const loads = [load(b), load(b), load(c), load(c)];
    await new Promise((r) => setTimeout(r, 50));
    const reply = await change();
    answeredAt = performance.now();
    expect(reply.status).toBeLessThan(300);
    // The very next request on each.
    const [nextB, nextC] = await Promise.all([
      api(b.base, token, 'GET', path),
      api(c.base, token, 'GET', path),
    ]);
    await new Promise((r) => setTimeout(r, 100));
    stop = true;
    await Promise.all(loads);
    for (const r of [nextB, nextC]) {
      expect(r.status).toBe(changedStatus);
      expect(changed(r)).toBe(true);
    }
    const after = seen.filter((s) => s.sentAt > answeredAt);
    expect(after.length).toBeGreaterThan(0);
    for (const s of after) {
      expect({ on: s.on, status: s.reply.status }).toEqual({ on: s.on, status: changedStatus });
      expect(changed(s.reply)).toBe(true);
    }
  };
  const refused = (r: Reply<Body>) => r.status === 401;

  beforeAll(async () => {
    cluster = await startCluster(3);
    [a, b, c] = cluster.instances as [Instance, Instance, Instance];
    admin = await signIn(a.base, ADMIN.username, ADMIN.password);
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('logout', async () => {
    const u = await newUser();
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    await race(token, '/api/me', () => api(a.base, token, 'POST', '/api/auth/logout'), 401, refused);
  });

  it('one sign-in ended from another device', async () => {
    const u = await newUser();
    const phone = await signIn(a.base, u.username, PW);
    const laptop = await signIn(a.base, u.username, PW);
    await warm(phone);
    await warm(laptop);
    const sessions = await api(a.base, laptop, 'GET', '/api/me/sessions');
    const other = (sessions.body.items as { id: string; current: boolean }[]).find((s) => !s.current)!;
    await race(
      phone,
      '/api/me',
      () => api(a.base, laptop, 'DELETE', `/api/me/sessions/${other.id}`),
      401,
      refused,
    );
    expect((await api(b.base, laptop, 'GET', '/api/me')).status).toBe(200);
  });

  it('own password change ends the other sign-ins', async () => {
    const u = await newUser();
    const other = await signIn(a.base, u.username, PW);
    const self = await signIn(a.base, u.username, PW);
    await warm(other);
    await race(
      other,
      '/api/tasks?limit=5',
      () => api(a.base, self, 'POST', '/api/me/password', { current_password: PW, new_password: NEW_PW }),
      401,
      refused,
    );
    expect((await api(c.base, self, 'GET', '/api/me')).status).toBe(200);
  });

  it('admin password reset', async () => {
    const u = await newUser();
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    await race(
      token,
      '/api/me',
      () => api(a.base, admin, 'PATCH', `/api/users/${u.id}`, { password: NEW_PW }),
      401,
      refused,
    );
  });

  it('role change', async () => {
    const u = await newUser('manager');
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    await race(
      token,
      '/api/me',
      () => api(a.base, admin, 'PATCH', `/api/users/${u.id}`, { role: 'user' }),
      200,
      (r: Reply<Body>) => r.body.role === 'user',
    );
    // A manager may list users; a user may not.
    expect((await api(b.base, token, 'GET', '/api/users')).status).toBe(403);
    expect((await api(c.base, token, 'GET', '/api/users')).status).toBe(403);
  });

  it('deactivation', async () => {
    const u = await newUser();
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    await race(
      token,
      '/api/tasks?limit=5',
      () => api(a.base, admin, 'PATCH', `/api/users/${u.id}`, { active: false }),
      401,
      refused,
    );
  });

  it('deletion', async () => {
    const u = await newUser('user');
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    await race(token, '/api/me', () => api(a.base, admin, 'DELETE', `/api/users/${u.id}`), 401, refused);
  });

  it('display name change', async () => {
    const u = await newUser();
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    await race(
      token,
      '/api/me',
      () => api(a.base, admin, 'PATCH', `/api/users/${u.id}`, { display_name: 'Renamed On A' }),
      200,
      (r: Reply<Body>) => r.body.display_name === 'Renamed On A',
    );
  });

  it('"must change password" set by an admin', async () => {
    const u = await newUser();
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    // Everything but the password change (and /api/me) answers 403 must_change_password.
    await race(
      token,
      '/api/tasks?limit=5',
      () => api(a.base, admin, 'PATCH', `/api/users/${u.id}`, { must_change_password: true }),
      403,
      (r: Reply<Body>) => r.body.error?.code === 'password_change_required',
    );
  });

  /**
   * Writes made outside the portal (psql, a script): no request waits for the caches, but the
   * database NOTIFYs portal_sign_ins and the realtime leader drops every instance's cache
   * (db/migrations/0009_sign_in_notify.sql, docs/decisions/0032). Without it B and C would keep
   * answering from their caches for SIGN_IN_CACHE_SECONDS (30 s here).
   */
  const fromOutside = async (statement: string, params: unknown[]) => {
    const client = new pg.Client({ connectionString: cluster.databaseUrl });
    await client.connect();
    try {
      await client.query(statement, params);
    } finally {
      await client.end();
    }
    return performance.now();
  };
  /** How long after `since` B and C both answered `expected` (polling), at most `limitMs`. */
  const settledAfter = async (
    token: string,
    since: number,
    expected: (r: Reply<Body>) => boolean,
    limitMs: number,
  ) => {
    for (;;) {
      const replies = await Promise.all([
        api(b.base, token, 'GET', '/api/me'),
        api(c.base, token, 'GET', '/api/me'),
      ]);
      if (replies.every(expected)) return performance.now() - since;
      if (performance.now() - since > limitMs) return Number.POSITIVE_INFINITY;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('a sign-in ended outside the portal (SQL) is refused on every instance within moments, not after the cache window', async () => {
    const u = await newUser();
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    const done = await fromOutside('update auth_sessions set revoked_at = now() where user_id = $1', [u.id]);
    expect(await settledAfter(token, done, refused, 5_000)).toBeLessThan(5_000);
  });

  it('a role changed outside the portal (SQL) shows on every instance within moments', async () => {
    const u = await newUser('manager');
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    const done = await fromOutside(`update users set role = 'user' where id = $1`, [u.id]);
    expect(
      await settledAfter(token, done, (r) => r.status === 200 && r.body.role === 'user', 5_000),
    ).toBeLessThan(5_000);
  });

  it('everyone signed out outside the portal (TRUNCATE auth_sessions) is refused on every instance within moments', async () => {
    const u = await newUser();
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    const done = await fromOutside('truncate auth_sessions', []);
    expect(await settledAfter(token, done, refused, 5_000)).toBeLessThan(5_000);
    // The administrator was signed out too.
    expect((await api(b.base, admin, 'GET', '/api/me')).status).toBe(401);
    admin = await signIn(a.base, ADMIN.username, ADMIN.password);
  });

  it('stamping "last used" (the portal does it on every minute of use) does not drop the caches', async () => {
    const u = await newUser();
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    const sent = (i: Instance) => metric(i, 'portal_sign_in_cache_invalidations_total', 'direction="sent"');
    const before = await Promise.all(cluster.instances.map(sent));
    await fromOutside('update auth_sessions set last_used_at = now() where user_id = $1', [u.id]);
    // A revocation elsewhere right after is heard: the stamp before it was not (nothing was sent for it).
    const other = await newUser();
    const otherToken = await signIn(a.base, other.username, PW);
    await warm(otherToken);
    const cut = await fromOutside('update auth_sessions set revoked_at = now() where user_id = $1', [
      other.id,
    ]);
    expect(await settledAfter(otherToken, cut, refused, 5_000)).toBeLessThan(5_000);
    const after = await Promise.all(cluster.instances.map(sent));
    // One invalidation (the revocation's), sent by the leader; none for the stamp.
    expect(after.reduce((x, y) => x + y, 0) - before.reduce((x, y) => x + y, 0)).toBe(1);
  });

  it('a stalled subscriber connection: B does not answer from its cache (killed connection)', async () => {
    const u = await newUser();
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    const redis = new Redis(REDIS_URL);
    try {
      // B's own subscriber connection, by the name the server gives it, and no other.
      const list = (await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
      const name = `${cluster.prefix}:signin:${b.child.pid}`;
      const id = list
        .split('\n')
        .find((l) => l.includes(` name=${name} `))
        ?.match(/\bid=(\d+)/)?.[1];
      expect(id).toBeDefined();
      const unusableBefore = await metric(b, 'portal_sign_in_cache_lookups_total', 'outcome="unusable"');
      await redis.client('KILL', 'ID', id!);
      expect((await api(a.base, token, 'POST', '/api/auth/logout')).status).toBe(204);
      expect((await api(b.base, token, 'GET', '/api/me')).status).toBe(401);
      expect((await api(c.base, token, 'GET', '/api/me')).status).toBe(401);
      expect(await metric(b, 'portal_sign_in_cache_lookups_total', 'outcome="unusable"')).toBeGreaterThan(
        unusableBefore,
      );
    } finally {
      redis.disconnect();
    }
  });

  it('a stalled instance (SIGSTOP past the ack timeout): A answers after the timeout, B never answers the revoked token', async () => {
    const u = await newUser();
    const token = await signIn(a.base, u.username, PW);
    await warm(token);
    const timeoutsBefore = await metric(a, 'portal_sign_in_cache_ack_timeouts_total');
    b.child.kill('SIGSTOP');
    let resumed = false;
    try {
      const started = performance.now();
      const logout = api(a.base, token, 'POST', '/api/auth/logout');
      // B's first request after A's answer is queued in B's kernel buffer while it is stopped.
      const reply = await logout;
      expect(reply.status).toBe(204);
      expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
      const fromB = api(b.base, token, 'GET', '/api/me');
      await new Promise((r) => setTimeout(r, 200));
      b.child.kill('SIGCONT');
      resumed = true;
      expect((await fromB).status).toBe(401);
      expect((await api(c.base, token, 'GET', '/api/me')).status).toBe(401);
      // At least D's (or B's); on a loaded machine another instance may also have answered late.
      expect(await metric(a, 'portal_sign_in_cache_ack_timeouts_total')).toBeGreaterThanOrEqual(
        timeoutsBefore + 1,
      );
    } finally {
      if (!resumed) b.child.kill('SIGCONT');
    }
  });

  it('a subscriber that hears nothing (its Redis traffic frozen): A answers after the ack timeout, D does not answer from its cache', async () => {
    const relay = await freezableRelay(new URL(REDIS_URL));
    const d = await startInstance({ ...cluster.env, REDIS_URL: relay.url });
    try {
      const u = await newUser();
      const token = await signIn(a.base, u.username, PW);
      const before = await hits(d);
      // Until D has answered from its cache (on a loaded machine a late PONG can make it unusable
      // for a moment).
      for (let i = 0; i < 200 && (await hits(d)) < before + 5; i++)
        expect((await api(d.base, token, 'GET', '/api/me')).status).toBe(200);
      expect(await hits(d)).toBeGreaterThanOrEqual(before + 5);
      relay.freeze();
      const timeoutsBefore = await metric(a, 'portal_sign_in_cache_ack_timeouts_total');
      const started = performance.now();
      expect((await api(a.base, token, 'POST', '/api/auth/logout')).status).toBe(204);
      // D received the invalidation in no way, so A waited for its acknowledgement in vain …
      expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
      // At least D's (or B's); on a loaded machine another instance may also have answered late.
      expect(await metric(a, 'portal_sign_in_cache_ack_timeouts_total')).toBeGreaterThanOrEqual(
        timeoutsBefore + 1,
      );
      // … and D, whose last PONG is older than a second, reads the sign-in from the database.
      expect((await api(d.base, token, 'GET', '/api/me')).status).toBe(401);
      expect(await metric(d, 'portal_sign_in_cache_lookups_total', 'outcome="unusable"')).toBeGreaterThan(0);
      relay.thaw();
    } finally {
      await d.stop('SIGKILL');
      relay.close();
    }
  }, 30_000);
});
