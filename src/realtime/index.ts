import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { liveSignIns } from '../auth/live-sign-ins.ts';
import { computeDashboard } from '../dashboard/metrics.ts';
import type { Database } from '../db/database.ts';
import type { Metrics } from '../observability/metrics.ts';
import { Engine } from './engine.ts';
import { encodeFrame, firstSeq } from './frames.ts';
import { Gateway, liveTtlSeconds } from './gateway.ts';
import { Hub } from './hub.ts';
import { realtimeKeys } from './keys.ts';
import { AdvisoryLockLeadership, EmbeddedLeadership, type Leadership } from './leadership.ts';
import { MemoryBus, MemoryStore } from './memory.ts';
import { diff, type Json } from './merge-patch.ts';
import type { DocState, RealtimeStore } from './ports.ts';
import { RedisBus, RedisStore } from './redis.ts';

export interface RealtimeOptions {
  database: Database;
  /** Redis when scaled out; undefined: in-process bus and store (embedded, one instance). */
  redis: Redis | undefined;
  prefix: string;
  logger: Logger;
  sessionTtlSeconds: number;
  heartbeatMs: number;
  /** Open sockets one user may hold per instance (default 50). */
  maxSocketsPerUser?: number;
  /** Upgrades opening at once per instance before more are refused with 503 (default MAX_OPENING). */
  maxOpening?: number;
  coalesceMs?: number;
  sweepMs?: number;
  retentionDays?: number;
  metrics?: Metrics;
  /** Sign-in changes the leader hears of (from the portal or outside it): drop every sign-in cache. */
  onSignInChange?: () => void;
}

export type Realtime = ReturnType<typeof createRealtime>;

/** Wires the realtime engine: store and bus (Redis or memory), leadership, the leader's engine, hub, gateway. */
export function createRealtime(options: RealtimeOptions) {
  const { database, redis, logger } = options;
  const keys = realtimeKeys(options.prefix);
  const liveTtl = liveTtlSeconds(options.sessionTtlSeconds, options.heartbeatMs);
  const docTtl = liveTtl + 60;
  let store: RealtimeStore;
  let bus: MemoryBus | RedisBus;
  let leadership: Leadership;
  if (redis) {
    store = new RedisStore(redis, keys, docTtl);
    const subscriber = redis.duplicate({
      autoResubscribe: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    subscriber.on('error', () => options.metrics?.errors.inc({ component: 'redis' }));
    bus = new RedisBus(subscriber);
    leadership = new AdvisoryLockLeadership(database, logger);
  } else {
    bus = new MemoryBus();
    store = new MemoryStore(bus, keys.userChannel);
    leadership = new EmbeddedLeadership(database);
  }

  /** The stored document, or a new one (computed now, stored as a snapshot version). */
  const documentOf = async (userId: number): Promise<DocState | undefined> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = (await store.getDocs([userId])).get(userId);
      if (stored) return stored;
      // The leader maintains watched users' documents only: this one must be watched before it is
      // computed (a resync after Redis lost everything runs before any heartbeat watches again).
      await store.watch([userId], Date.now() + liveTtl * 1000);
      const doc = await computeDashboard(database.db, userId);
      if (!doc) return undefined;
      const seq = firstSeq();
      const frame = encodeFrame({ type: 'snapshot', seq, data: doc });
      if (await store.commit({ userId, expectedSeq: 0, doc, frame, kind: 'snapshot', seq }))
        return { seq, doc };
    }
    return (await store.getDocs([userId])).get(userId);
  };

  const engine = new Engine({
    database,
    store,
    logger,
    metrics: options.metrics,
    coalesceMs: options.coalesceMs ?? 15,
    sweepMs: options.sweepMs ?? 30_000,
    retentionDays: options.retentionDays ?? 0,
    onSignInChange: options.onSignInChange,
  });
  const hub = new Hub({ store, bus, keys, documentOf, logger, metrics: options.metrics });
  options.metrics?.observe({ sessions: () => hub.connections, leader: () => leadership.isLeader });
  const gateway = new Gateway({
    hub,
    store,
    logger,
    signIns: (ids) => liveSignIns(database.db, ids),
    metrics: options.metrics,
    heartbeatMs: options.heartbeatMs,
    sessionTtlSeconds: options.sessionTtlSeconds,
    liveTtlSeconds: liveTtl,
    maxSocketsPerUser: options.maxSocketsPerUser ?? 50,
    ...(options.maxOpening ? { maxOpening: options.maxOpening } : {}),
  });

  return {
    store,
    hub,
    gateway,
    engine,
    leadership,
    start() {
      leadership.start(engine.lead);
    },
    /** Closes the sockets of a sign-in (or of every sign-in of the user) on every instance. */
    async revoke(userId: number, authSessionId?: string) {
      await store.publishControl(userId, {
        type: 'control',
        action: 'revoke',
        ...(authSessionId ? { auth_session: authSessionId } : {}),
      });
    },
    /**
     * Publishes a user's document afresh, from any instance, for a change the change log does not
     * carry (notifications marked read). The same compare-and-set as the leader's: if the version
     * moved meanwhile, it computes again, so neither this nor the leader publishes a stale document.
     */
    async refresh(userId: number) {
      for (let attempt = 0; attempt < 5; attempt++) {
        const previous = (await store.getDocs([userId])).get(userId);
        if (!previous) return; // nobody watching: the next session computes it fresh
        const doc = await computeDashboard(database.db, userId);
        if (!doc) return;
        let ok: boolean;
        if (previous.doc.role !== doc.role) {
          const seq = previous.seq + 1;
          const frame = encodeFrame({ type: 'snapshot', seq, data: doc });
          ok = await store.commit({ userId, expectedSeq: previous.seq, doc, frame, kind: 'snapshot', seq });
        } else {
          const patch = diff(previous.doc as unknown as Json, doc as unknown as Json);
          if (patch === undefined) return;
          const frame = encodeFrame({ type: 'delta', seq: previous.seq + 1, patch });
          ok = await store.commit({ userId, expectedSeq: previous.seq, doc, frame, kind: 'delta' });
        }
        if (ok) return;
      }
      logger.warn({ userId }, 'realtime: could not refresh a document (its version kept moving)');
    },
    /** SIGTERM: close sockets with 4000 and hand leadership over. */
    async drain() {
      gateway.drain();
      await leadership.stop();
      await bus.close();
    },
  };
}
