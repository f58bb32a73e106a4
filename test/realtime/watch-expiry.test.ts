import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Dashboard } from '../../src/dashboard/metrics.ts';
import { realtimeKeys } from '../../src/realtime/keys.ts';
import { MemoryBus, MemoryStore } from '../../src/realtime/memory.ts';
import type { RealtimeStore } from '../../src/realtime/ports.ts';
import { RedisStore } from '../../src/realtime/redis.ts';
import { REDIS_URL, RUN_ID } from '../support/env.ts';

const redis = new Redis(REDIS_URL);
const prefix = `${RUN_ID}:expiry:${Math.random().toString(36).slice(2, 8)}`;
afterAll(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const doc: Dashboard = {
  role: 'user',
  my_tasks: { todo: 1, in_progress: 0, blocked: 0, done: 0 },
  my_overdue: 0,
  completed_by_day: {},
};

/**
 * Nobody maintains the document of a user nobody watches: when the watch expires, the document
 * and its history go with it, so a later session can never be sent a stale one.
 */
describe.each([
  ['memory', (): RealtimeStore => new MemoryStore(new MemoryBus(), realtimeKeys('m').userChannel)],
  ['redis', (): RealtimeStore => new RedisStore(redis, realtimeKeys(prefix), 3600)],
] as const)('an expired watch (%s)', (_name, make) => {
  it('drops the document and history; a user still watched keeps theirs', async () => {
    const store = make();
    const now = Date.now();
    await store.commit({ userId: 1, expectedSeq: 0, doc: doc, frame: 'S1', kind: 'snapshot' });
    await store.commit({ userId: 1, expectedSeq: 1, doc: doc, frame: 'D2', kind: 'delta' });
    await store.commit({ userId: 2, expectedSeq: 0, doc: doc, frame: 'S1', kind: 'snapshot' });
    await store.watch([1], now + 100);
    await store.watch([2], now + 60_000);
    expect((await store.watchedUsers(now + 1000)).sort()).toEqual([2]);
    expect([...(await store.getDocs([1, 2])).keys()]).toEqual([2]);
    expect(await store.history(1, 1)).toBeUndefined();
    // Watched again (a new session): starts from a fresh document.
    await store.watch([1], now + 60_000);
    expect(await store.commit({ userId: 1, expectedSeq: 0, doc: doc, frame: 'S1', kind: 'snapshot' })).toBe(
      true,
    );
  });

  it('is pruned by a batch that only asks about the users it touches', async () => {
    const store = make();
    const now = Date.now();
    await store.commit({ userId: 5, expectedSeq: 0, doc: doc, frame: 'S1', kind: 'snapshot' });
    await store.commit({ userId: 6, expectedSeq: 0, doc: doc, frame: 'S1', kind: 'snapshot' });
    await store.watch([5], now + 100);
    await store.watch([6], now + 60_000);
    await store.pruneWatches(now + 1000);
    expect([...(await store.getDocs([5, 6])).keys()]).toEqual([6]);
    expect(await store.watching([5, 6], now + 1000)).toEqual([6]);
  });
});
