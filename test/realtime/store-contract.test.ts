import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { Dashboard } from '../../src/domain/metrics.js';
import { realtimeKeys } from '../../src/realtime/keys.js';
import { MemoryBus, MemoryStore } from '../../src/realtime/memory.js';
import type { Bus, RealtimeStore } from '../../src/realtime/ports.js';
import { RedisBus, RedisStore } from '../../src/realtime/redis.js';
import { REDIS_URL, RUN_ID } from '../support/env.js';

const redis = new Redis(REDIS_URL);
const subscribers: Redis[] = [];
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  }
  for (const s of subscribers) s.disconnect();
  redis.disconnect();
});

const doc = (done: number): Dashboard => ({
  role: 'user',
  my_tasks: { todo: 1, in_progress: 0, blocked: 0, done },
  my_overdue: 0,
  completed_by_day: {},
});

/** Both implementations of the realtime ports keep the same promises. */
describe.each([
  [
    'memory',
    () => {
      const keys = realtimeKeys('mem');
      const bus = new MemoryBus();
      return { store: new MemoryStore(bus, keys.userChannel, 3) as RealtimeStore, bus: bus as Bus, keys };
    },
  ],
  [
    'redis',
    () => {
      const prefix = `${RUN_ID}:contract:${Math.random().toString(36).slice(2, 8)}`;
      prefixes.push(prefix);
      const keys = realtimeKeys(prefix);
      const sub = redis.duplicate({ autoResubscribe: false });
      subscribers.push(sub);
      return {
        store: new RedisStore(redis, keys, 60, 3) as RealtimeStore,
        bus: new RedisBus(sub) as Bus,
        keys,
      };
    },
  ],
] as const)('realtime store and bus (%s)', (_name, make) => {
  it('commits versions by compare-and-set and publishes each exactly once', async () => {
    const { store, bus, keys } = make();
    const heard: string[] = [];
    await bus.subscribe(keys.userChannel(7), (m) => heard.push(m));
    expect(await store.commit(7, 0, doc(0), 'snap-1', 'snapshot')).toBe(true);
    expect(await store.commit(7, 0, doc(9), 'stale', 'delta')).toBe(false);
    expect(await store.commit(7, 1, doc(1), 'delta-2', 'delta')).toBe(true);
    expect(await store.commit(7, 1, doc(9), 'stale', 'delta')).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual(['snap-1', 'delta-2']);
    expect((await store.getDocs([7, 8])).get(7)).toEqual({ seq: 2, doc: doc(1) });
    expect((await store.getDocs([7, 8])).has(8)).toBe(false);
  });

  it('replays exactly the deltas after a version while the capped history holds them', async () => {
    const { store } = make();
    await store.commit(5, 0, doc(0), 'S1', 'snapshot');
    for (let seq = 1; seq <= 5; seq++) await store.commit(5, seq, doc(seq), `D${seq + 1}`, 'delta');
    expect(await store.history(5, 6)).toEqual([]);
    expect(await store.history(5, 4)).toEqual(['D5', 'D6']);
    expect(await store.history(5, 3)).toEqual(['D4', 'D5', 'D6']);
    expect(await store.history(5, 2)).toBeUndefined(); // capped at 3: D3 is gone
    expect(await store.history(5, 9)).toBeUndefined(); // ahead of the server: start over
    await store.commit(5, 6, doc(7), 'S7', 'snapshot');
    expect(await store.history(5, 6)).toBeUndefined(); // a snapshot restarts the history
    expect(await store.history(5, 7)).toEqual([]);
  });

  it('keeps sessions until they expire, and knows who is watched', async () => {
    const { store } = make();
    const id = await store.createSession({ userId: 3, authSessionId: 'auth-a' }, 60);
    expect(await store.getSession(id)).toEqual({ userId: 3, authSessionId: 'auth-a' });
    await store.expireSessions([id], 1);
    await new Promise((r) => setTimeout(r, 1300));
    expect(await store.getSession(id)).toBeUndefined();
    const now = Date.now();
    await store.watch([1, 2], now + 60_000);
    await store.watch([3], now + 200);
    await store.watch([1], now + 100); // never shortens a later expiry
    expect((await store.watchedUsers(now)).sort()).toEqual([1, 2, 3]);
    expect((await store.watchedUsers(now + 1000)).sort()).toEqual([1, 2]);
  });

  it('delivers control frames on the user channel and stops after unsubscribe', async () => {
    const { store, bus, keys } = make();
    const heard: string[] = [];
    await bus.subscribe(keys.userChannel(11), (m) => heard.push(m));
    await store.publishControl(11, { type: 'control', action: 'revoke', auth_session: 'x' });
    await new Promise((r) => setTimeout(r, 100));
    await bus.unsubscribe(keys.userChannel(11));
    await store.publishControl(11, { type: 'control', action: 'close', code: 4401 });
    await new Promise((r) => setTimeout(r, 100));
    expect(heard.map((m) => JSON.parse(m))).toEqual([
      { type: 'control', action: 'revoke', auth_session: 'x' },
    ]);
  });
});
