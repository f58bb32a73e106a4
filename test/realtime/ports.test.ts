import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Dashboard } from '../../src/dashboard/metrics.ts';
import { type RealtimeKeys, realtimeKeys } from '../../src/realtime/keys.ts';
import { MemoryBus, MemoryStore } from '../../src/realtime/memory.ts';
import type { Bus, RealtimeStore } from '../../src/realtime/ports.ts';
import { RedisBus, RedisStore } from '../../src/realtime/redis.ts';
import { REDIS_URL, RUN_ID } from '../support/env.ts';

/**
 * The contract of the realtime ports (src/realtime/ports.ts), kept by both implementations:
 * MemoryStore + MemoryBus (embedded) and RedisStore + RedisBus against the real Redis, each test
 * under a prefix of its own whose keys are deleted afterwards.
 */
const HISTORY_LIMIT = 3;

interface Harness {
  store: RealtimeStore;
  bus: Bus;
  keys: RealtimeKeys;
  /** Another instance's view of the same shared state (Redis: its own connections). */
  peer(): { store: RealtimeStore; bus: Bus };
}

const redis = new Redis(REDIS_URL);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});
afterAll(() => redis.disconnect());

async function deleteKeys(prefix: string) {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    if (found.length > 0) await redis.del(...found);
    cursor = next;
  } while (cursor !== '0');
}

function memoryHarness(): Harness {
  const keys = realtimeKeys('mem');
  const bus = new MemoryBus();
  const store = new MemoryStore(bus, keys.userChannel, HISTORY_LIMIT);
  return { store, bus, keys, peer: () => ({ store, bus }) };
}

function redisHarness(): Harness {
  const prefix = `${RUN_ID}:ports:${Math.random().toString(36).slice(2, 10)}`;
  const keys = realtimeKeys(prefix);
  const connections: Redis[] = [];
  const make = () => {
    const main = redis.duplicate();
    const sub = redis.duplicate({ autoResubscribe: false });
    connections.push(main, sub);
    return { store: new RedisStore(main, keys, 60, HISTORY_LIMIT), bus: new RedisBus(sub) };
  };
  cleanups.push(async () => {
    for (const c of connections) c.disconnect();
    await deleteKeys(prefix);
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
  });
  return { ...make(), keys, peer: make };
}

const doc = (done: number): Dashboard => ({
  role: 'user',
  my_tasks: { todo: 1, in_progress: 0, blocked: 0, done },
  my_overdue: 0,
  completed_by_day: { '2026-11-25': done },
});

/** Records what a channel delivers; `until` resolves once a given message has arrived. */
async function listen(bus: Bus, channel: string) {
  const heard: string[] = [];
  const waiters: { text: string; resolve: () => void }[] = [];
  await bus.subscribe(channel, (message) => {
    heard.push(message);
    for (const w of waiters.filter((w) => w.text === message)) w.resolve();
  });
  return {
    heard,
    until: (text: string) =>
      heard.includes(text)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`never heard ${text}; got ${heard}`)), 5000);
            waiters.push({
              text,
              resolve: () => {
                clearTimeout(timer);
                resolve();
              },
            });
          }),
  };
}

describe.each([
  ['memory', memoryHarness],
  ['redis', redisHarness],
] as const)('realtime ports contract (%s)', (_name, harness) => {
  it('commits by compare-and-set on seq; a refused commit stores and publishes nothing', async () => {
    const { store, bus, keys } = harness();
    const channel = await listen(bus, keys.userChannel(7));
    expect(
      await store.commit({ userId: 7, expectedSeq: 1, doc: doc(9), frame: 'too-new', kind: 'snapshot' }),
    ).toBe(false); // nothing stored yet
    expect(
      await store.commit({ userId: 7, expectedSeq: 0, doc: doc(0), frame: 'S1', kind: 'snapshot' }),
    ).toBe(true);
    expect(
      await store.commit({ userId: 7, expectedSeq: 0, doc: doc(9), frame: 'stale-0', kind: 'delta' }),
    ).toBe(false);
    expect(
      await store.commit({ userId: 7, expectedSeq: 2, doc: doc(9), frame: 'ahead-2', kind: 'delta' }),
    ).toBe(false);
    expect(await store.commit({ userId: 7, expectedSeq: 1, doc: doc(1), frame: 'D2', kind: 'delta' })).toBe(
      true,
    );
    expect(
      await store.commit({ userId: 7, expectedSeq: 1, doc: doc(9), frame: 'stale-1', kind: 'snapshot' }),
    ).toBe(false);
    expect(await store.commit({ userId: 7, expectedSeq: 2, doc: doc(2), frame: 'D3', kind: 'delta' })).toBe(
      true,
    );
    // Publication is ordered: had a refused commit published, it would be heard before D3.
    await channel.until('D3');
    expect(channel.heard).toEqual(['S1', 'D2', 'D3']);
    expect((await store.getDocs([7])).get(7)).toEqual({ seq: 3, doc: doc(2) });
    expect(await store.history(7, 1)).toEqual(['D2', 'D3']);
  });

  it('lets exactly one of several concurrent commits of the same version through', async () => {
    const { store, bus, keys, peer } = harness();
    const other = peer().store;
    const channel = await listen(bus, keys.userChannel(8));
    await store.commit({ userId: 8, expectedSeq: 0, doc: doc(0), frame: 'S1', kind: 'snapshot' });
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? other : store).commit({
          userId: 8,
          expectedSeq: 1,
          doc: doc(i + 1),
          frame: `D2-${i}`,
          kind: 'delta',
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect(await store.commit({ userId: 8, expectedSeq: 2, doc: doc(50), frame: 'D3', kind: 'delta' })).toBe(
      true,
    );
    await channel.until('D3');
    expect(channel.heard).toEqual(['S1', `D2-${winner}`, 'D3']);
    expect((await other.getDocs([8])).get(8)).toEqual({ seq: 3, doc: doc(50) });
  });

  it('reads several documents at once, leaving out users without one, and drops one', async () => {
    const { store } = harness();
    await store.commit({ userId: 1, expectedSeq: 0, doc: doc(1), frame: 'S1', kind: 'snapshot' });
    await store.commit({ userId: 3, expectedSeq: 0, doc: doc(3), frame: 'S1', kind: 'snapshot' });
    await store.commit({ userId: 3, expectedSeq: 1, doc: doc(4), frame: 'D2', kind: 'delta' });
    const docs = await store.getDocs([1, 2, 3]);
    expect([...docs.keys()].sort()).toEqual([1, 3]);
    expect(docs.get(3)).toEqual({ seq: 2, doc: doc(4) });
    expect((await store.getDocs([])).size).toBe(0);
    await store.dropDoc(3);
    expect((await store.getDocs([1, 3])).has(3)).toBe(false);
    expect(await store.history(3, 1)).toBeUndefined();
    expect(
      await store.commit({ userId: 3, expectedSeq: 0, doc: doc(5), frame: 'S1-again', kind: 'snapshot' }),
    ).toBe(true); // starts over at 1
  });

  it('replays exactly the deltas after a version while the capped history holds them', async () => {
    const { store } = harness();
    expect(await store.history(5, 0)).toEqual([]); // nothing stored: the client is current
    await store.commit({ userId: 5, expectedSeq: 0, doc: doc(0), frame: 'S1', kind: 'snapshot' });
    expect(await store.history(5, 1)).toEqual([]);
    expect(await store.history(5, 0)).toBeUndefined(); // the snapshot itself is never replayed
    await store.commit({ userId: 5, expectedSeq: 1, doc: doc(1), frame: 'D2', kind: 'delta' });
    await store.commit({ userId: 5, expectedSeq: 2, doc: doc(2), frame: 'D3', kind: 'delta' });
    expect(await store.history(5, 1)).toEqual(['D2', 'D3']);
    expect(await store.history(5, 2)).toEqual(['D3']);
    for (let seq = 3; seq <= 5; seq++)
      await store.commit({ userId: 5, expectedSeq: seq, doc: doc(seq), frame: `D${seq + 1}`, kind: 'delta' });
    // Holds D4, D5, D6 (limit 3).
    expect(await store.history(5, 6)).toEqual([]);
    expect(await store.history(5, 5)).toEqual(['D6']);
    expect(await store.history(5, 4)).toEqual(['D5', 'D6']);
    expect(await store.history(5, 3)).toEqual(['D4', 'D5', 'D6']);
    expect(await store.history(5, 2)).toBeUndefined(); // D3 is gone: a snapshot is needed
    expect(await store.history(5, 0)).toBeUndefined();
    expect(await store.history(5, 7)).toBeUndefined(); // ahead of the server
  });

  it('restarts the history with a snapshot commit', async () => {
    const { store, bus, keys } = harness();
    const channel = await listen(bus, keys.userChannel(6));
    await store.commit({ userId: 6, expectedSeq: 0, doc: doc(0), frame: 'S1', kind: 'snapshot' });
    await store.commit({ userId: 6, expectedSeq: 1, doc: doc(1), frame: 'D2', kind: 'delta' });
    await store.commit({ userId: 6, expectedSeq: 2, doc: doc(2), frame: 'D3', kind: 'delta' });
    expect(
      await store.commit({
        userId: 6,
        expectedSeq: 3,
        doc: { ...doc(2), role: 'manager' },
        frame: 'S4',
        kind: 'snapshot',
      }),
    ).toBe(true);
    expect(await store.history(6, 3)).toBeUndefined(); // the deltas before the snapshot are gone
    expect(await store.history(6, 1)).toBeUndefined();
    expect(await store.history(6, 4)).toEqual([]);
    await store.commit({ userId: 6, expectedSeq: 4, doc: doc(3), frame: 'D5', kind: 'delta' });
    expect(await store.history(6, 4)).toEqual(['D5']);
    expect(await store.history(6, 3)).toBeUndefined();
    await channel.until('D5');
    expect(channel.heard).toEqual(['S1', 'D2', 'D3', 'S4', 'D5']); // snapshots are published too
  });

  it('publishes on the user channel only, and not after unsubscribe', async () => {
    const { store, bus, keys } = harness();
    const mine = await listen(bus, keys.userChannel(10));
    const theirs = await listen(bus, keys.userChannel(11));
    await store.commit({
      userId: 10,
      expectedSeq: 0,
      doc: doc(0),
      frame: '{"type":"snapshot","seq":1}',
      kind: 'snapshot',
    });
    await store.commit({ userId: 11, expectedSeq: 0, doc: doc(0), frame: 'theirs-1', kind: 'snapshot' });
    await mine.until('{"type":"snapshot","seq":1}');
    await theirs.until('theirs-1');
    expect(mine.heard).toEqual(['{"type":"snapshot","seq":1}']);
    expect(theirs.heard).toEqual(['theirs-1']);

    await bus.unsubscribe(keys.userChannel(10));
    await store.commit({
      userId: 10,
      expectedSeq: 1,
      doc: doc(1),
      frame: 'after-unsubscribe',
      kind: 'delta',
    });
    await store.commit({ userId: 11, expectedSeq: 1, doc: doc(1), frame: 'theirs-2', kind: 'delta' });
    await theirs.until('theirs-2'); // published after the other one, on the same connection
    expect(mine.heard).toEqual(['{"type":"snapshot","seq":1}']);
  });

  it('delivers control frames to every subscriber of the user, on every instance', async () => {
    const { store, bus, keys, peer } = harness();
    const here = await listen(bus, keys.userChannel(12));
    const elsewhere = peer();
    const there = elsewhere.bus === bus ? here : await listen(elsewhere.bus, keys.userChannel(12));
    await elsewhere.store.publishControl(12, { type: 'control', action: 'revoke', auth_session: 'auth-x' });
    await store.publishControl(12, { type: 'control', action: 'revoke' });
    await store.publishControl(12, { type: 'control', action: 'close', code: 4401 });
    const last = JSON.stringify({ type: 'control', action: 'close', code: 4401 });
    await here.until(last);
    await there.until(last);
    for (const heard of [here.heard, there.heard]) {
      expect(heard.map((m) => JSON.parse(m))).toEqual([
        { type: 'control', action: 'revoke', auth_session: 'auth-x' },
        { type: 'control', action: 'revoke' },
        { type: 'control', action: 'close', code: 4401 },
      ]);
      // The hub tells control frames from document frames by this prefix.
      expect(heard.every((m) => m.startsWith('{"type":"control"'))).toBe(true);
    }
  });

  it('keeps sessions for their TTL, resolvable from any instance, and refreshes the TTL', async () => {
    const { store, peer } = harness();
    const other = peer().store;
    const short = await store.createSession({ userId: 3, authSessionId: 'auth-a' }, 1);
    const refreshed = await store.createSession({ userId: 4, authSessionId: 'auth-b' }, 1);
    const cut = await store.createSession({ userId: 5, authSessionId: 'auth-c' }, 60);
    const created = Date.now();
    expect(new Set([short, refreshed, cut]).size).toBe(3);
    expect(short).toMatch(/^[0-9a-f-]{36}$/); // the gateway only resumes ids of this shape
    expect(await other.getSession(short)).toEqual({ userId: 3, authSessionId: 'auth-a' });
    expect(await other.getSession(cut)).toEqual({ userId: 5, authSessionId: 'auth-c' });
    expect(await store.getSession(crypto.randomUUID())).toBeUndefined();
    await other.expireSessions([refreshed], 60);
    await other.expireSessions([cut], 1);
    await store.expireSessions([], 1); // nothing to do

    // The 1 s sessions disappear after about a second; the refreshed one stays.
    while ((await store.getSession(short)) !== undefined) {
      expect(Date.now() - created).toBeLessThan(3000);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(Date.now() - created).toBeGreaterThanOrEqual(900);
    while ((await other.getSession(cut)) !== undefined) {
      expect(Date.now() - created).toBeLessThan(3000);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await store.getSession(short)).toBeUndefined();
    expect(await other.getSession(refreshed)).toEqual({ userId: 4, authSessionId: 'auth-b' });
  });

  it('knows who is watched until when; a later expiry is never shortened', async () => {
    const { store, peer } = harness();
    const other = peer().store;
    const now = Date.now();
    expect(await store.watchedUsers(now)).toEqual([]);
    await store.watch([], now + 1000); // nothing to do
    await store.watch([1, 2], now + 60_000);
    await other.watch([3], now + 200);
    await other.watch([1], now + 100); // another instance's earlier expiry: 1 stays until +60 s
    await store.watch([4], now + 500);
    await store.watch([4], now + 5000); // extended
    const sorted = async (at: number) => (await other.watchedUsers(at)).sort((a, b) => a - b);
    // Asking about a few users answers for those only, in the order asked, without pruning.
    expect(await store.watching([], now)).toEqual([]);
    expect(await store.watching([4, 9, 3, 1], now + 1000)).toEqual([4, 1]);
    expect(await other.watching([3, 2], now)).toEqual([3, 2]);
    expect(await sorted(now)).toEqual([1, 2, 3, 4]);
    expect(await sorted(now + 1000)).toEqual([1, 2, 4]);
    expect(await sorted(now + 10_000)).toEqual([1, 2]);
    // Expired users are forgotten, not just hidden: watching again is needed.
    expect(await sorted(now)).toEqual([1, 2]);
    await store.watch([3], now + 10_000);
    expect(await sorted(now + 5000)).toEqual([1, 2, 3]);
    expect(await sorted(now + 61_000)).toEqual([]);
  });

  it('answers many opening sockets at once: watches, sessions and histories as the single reads would', async () => {
    const { store, peer } = harness();
    const other = peer().store;
    const now = Date.now();
    await store.commit({ userId: 21, expectedSeq: 0, doc: doc(0), frame: 'S1', kind: 'snapshot' });
    await store.commit({ userId: 21, expectedSeq: 1, doc: doc(1), frame: 'D2', kind: 'delta' });
    await store.commit({ userId: 21, expectedSeq: 2, doc: doc(2), frame: 'D3', kind: 'delta' });
    const mine = await store.createSession({ userId: 21, authSessionId: 'auth-21' }, 60);
    const theirs = await store.createSession({ userId: 22, authSessionId: 'auth-22' }, 60);
    expect(await other.openings([], now + 1000)).toEqual([]);
    const reads = [
      { userId: 23 }, // a new session: nothing to read but the watch
      { userId: 21, resume: { sessionId: mine, afterSeq: 1 } },
      { userId: 21, resume: { sessionId: mine, afterSeq: 3 } }, // up to date
      { userId: 21, resume: { sessionId: mine, afterSeq: undefined } }, // no last_seq given
      { userId: 22, resume: { sessionId: theirs, afterSeq: 5 } }, // no document: no replay
      { userId: 21, resume: { sessionId: crypto.randomUUID(), afterSeq: 0 } }, // expired session, seq before the history
    ];
    const replies = await other.openings(reads, now + 60_000);
    expect(replies).toEqual([
      { session: undefined, history: undefined },
      { session: { userId: 21, authSessionId: 'auth-21' }, history: ['D2', 'D3'] },
      { session: { userId: 21, authSessionId: 'auth-21' }, history: [] },
      { session: { userId: 21, authSessionId: 'auth-21' }, history: undefined },
      { session: { userId: 22, authSessionId: 'auth-22' }, history: undefined },
      { session: undefined, history: undefined },
    ]);
    // The same as the single reads say.
    for (const [i, read] of reads.entries()) {
      if (!read.resume) continue;
      expect(replies[i]!.session).toEqual(await store.getSession(read.resume.sessionId));
      if (read.resume.afterSeq !== undefined)
        expect(replies[i]!.history).toEqual(await store.history(read.userId, read.resume.afterSeq));
    }
    // Every user asked about is watched, once each.
    expect((await store.watching([21, 22, 23, 24], now + 30_000)).sort()).toEqual([21, 22, 23]);
  });
});
