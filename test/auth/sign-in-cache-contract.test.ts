import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EmbeddedSignInCache,
  InProcessRevocations,
  type SignInCache,
  type SignInCacheOptions,
} from '../../src/auth/sign-in-cache.ts';
import { RedisSignInCache } from '../../src/auth/sign-in-cache-redis.ts';
import type { UserRow } from '../../src/db/schema/users.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { REDIS_URL, RUN_ID } from '../support/env.ts';

const user = (id: number, role: UserRow['role'] = 'user'): UserRow => ({
  id,
  username: `u${id}`,
  display_name: `User ${id}`,
  role,
  active: true,
  must_change_password: false,
  password_hash: 'x',
  created_at: new Date(0),
  updated_at: new Date(0),
});
const entry = (id: number, expiresInMs = 60_000) => ({
  user: user(id),
  expiresAt: Date.now() + expiresInMs,
  lastUsedAt: Date.now(),
});

/** Two handles of one deployment ("instances"), built the way each adapter is built. */
interface Adapter {
  name: string;
  pair(options?: Partial<SignInCacheOptions>): Promise<[SignInCache, SignInCache]>;
}

const opened: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const close of opened) await close();
});

const embedded: Adapter = {
  name: 'embedded',
  async pair(options = {}) {
    const group = new InProcessRevocations();
    const a = new EmbeddedSignInCache({ maxAgeMs: 30_000, ...options }, group);
    const b = new EmbeddedSignInCache({ maxAgeMs: 30_000, ...options }, group);
    opened.push(
      () => a.close(),
      () => b.close(),
    );
    return [a, b];
  },
};

const redisClients: Redis[] = [];
const redis: Adapter = {
  name: 'redis',
  async pair(options = {}) {
    const prefix = `${RUN_ID}:sic:${Math.random().toString(36).slice(2, 8)}`;
    const make = async () => {
      const command = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
      const subscriber = command.duplicate({
        connectionName: `${prefix}:signin:${Math.random().toString(36).slice(2, 8)}`,
        autoResubscribe: false,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
      });
      redisClients.push(command);
      const cache = new RedisSignInCache(command, subscriber, prefix, {
        maxAgeMs: 30_000,
        metrics: createMetrics(),
        ...options,
      });
      opened.push(async () => {
        await cache.close();
        command.disconnect();
      });
      await cache.ready();
      return cache;
    };
    return [await make(), await make()];
  },
};

describe.each([embedded, redis])('sign-in cache contract: $name', (adapter) => {
  it('answers what was stored, until the session expires', async () => {
    const [a] = await adapter.pair();
    a.set('t1', entry(1), a.generation());
    a.set('t2', entry(2, 50), a.generation());
    expect(a.get('t1')?.user.id).toBe(1);
    expect(a.get('t2')?.user.id).toBe(2);
    expect(a.get('nope')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 80));
    expect(a.get('t2')).toBeUndefined();
    expect(a.get('t1')?.user.id).toBe(1);
  });

  it('never answers an entry older than the maximum age', async () => {
    const [a] = await adapter.pair({ maxAgeMs: 60 });
    a.set('t', entry(1), a.generation());
    expect(a.get('t')).toBeDefined();
    await new Promise((r) => setTimeout(r, 90));
    expect(a.get('t')).toBeUndefined();
  });

  it('keeps at most `limit` entries, the oldest going first', async () => {
    const [a] = await adapter.pair({ limit: 3 });
    for (let i = 1; i <= 5; i++) a.set(`t${i}`, entry(i), a.generation());
    expect(['t1', 't2', 't3', 't4', 't5'].map((t) => a.get(t)?.user.id)).toEqual([
      undefined,
      undefined,
      3,
      4,
      5,
    ]);
  });

  it('an invalidation on one instance has emptied every instance when it resolves', async () => {
    const [a, b] = await adapter.pair();
    a.set('ta', entry(1), a.generation());
    b.set('tb', entry(2), b.generation());
    const done = a.invalidate();
    // The invalidating instance drops its own entries at once, before anything is awaited.
    expect(a.get('ta')).toBeUndefined();
    await done;
    expect(b.get('tb')).toBeUndefined();
    // And from the other side.
    a.set('ta', entry(1), a.generation());
    await b.invalidate();
    expect(a.get('ta')).toBeUndefined();
  });

  it('a read that started before an invalidation does not put back what it removed', async () => {
    const [a, b] = await adapter.pair();
    const before = b.generation(); // B starts a sign-in check …
    await a.invalidate(); // … A changes the sign-in and invalidates …
    b.set('t', entry(1), before); // … B's check answers the old row: not kept.
    expect(b.get('t')).toBeUndefined();
    b.set('t', entry(1), b.generation());
    expect(b.get('t')?.user.id).toBe(1);
  });

  it('is usable while nothing is wrong', async () => {
    const [a, b] = await adapter.pair();
    await new Promise((r) => setTimeout(r, 600));
    expect(a.usable()).toBe(true);
    expect(b.usable()).toBe(true);
  });
});

/** Redis's id of the connection named `name` (CLIENT LIST), to kill that one and no other. */
async function clientId(admin: Redis, name: string): Promise<string> {
  const list = (await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
  const line = list.split('\n').find((l) => l.includes(` name=${name} `));
  const id = line?.match(/\bid=(\d+)/)?.[1];
  if (!id) throw new Error(`no connection named ${name}`);
  return id;
}

describe('sign-in cache, Redis adapter: the staleness guard', () => {
  it('a killed subscriber connection empties the cache and stops answering from it until proven again', async () => {
    const [a, b] = await redis.pair();
    b.set('t', entry(1), b.generation());
    expect(b.get('t')).toBeDefined();
    const rb = b as RedisSignInCache;
    const admin = new Redis(REDIS_URL);
    redisClients.push(admin);
    await admin.client('KILL', 'ID', await clientId(admin, rb.subscriber.options.connectionName!));
    // The invalidation published meanwhile may reach B or not: B must not answer from its cache.
    await a.invalidate();
    expect(b.get('t')).toBeUndefined();
    await rb.ready(10_000); // reconnected, resubscribed, proven
    expect(b.get('t')).toBeUndefined();
    b.set('t', entry(1), b.generation());
    expect(b.get('t')).toBeDefined();
  }, 20_000);

  it('a stalled subscriber stops answering within a second; the revoker stops waiting after the ack timeout', async () => {
    const metrics = createMetrics();
    const [a, b] = await redis.pair({ metrics });
    const rb = b as RedisSignInCache;
    b.set('t', entry(1), b.generation());
    await new Promise((r) => setTimeout(r, 300));
    expect(b.get('t')).toBeDefined();
    // B reads nothing from its subscriber connection (as if its event loop were stuck): neither
    // the invalidation nor any PONG gets through.
    rb.subscriber.stream.pause();
    const started = performance.now();
    const invalidating = a.invalidate();
    await new Promise((r) => setTimeout(r, 1050));
    expect(b.get('t')).toBeUndefined(); // no PONG for a second: B does not answer from its cache
    await invalidating;
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(1450);
    expect(waited).toBeLessThan(3000);
    expect((await metrics.signInAckTimeouts.get()).values[0]?.value).toBe(1);
    rb.subscriber.stream.resume();
    await rb.ready(5000);
    expect(b.get('t')).toBeUndefined(); // the invalidation was processed when B read again
  }, 20_000);
});

afterAll(() => {
  for (const c of redisClients) c.disconnect();
});
