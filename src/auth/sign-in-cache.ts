import { createMiddleware } from 'hono/factory';
import type { UserRow } from '../db/schema/users.ts';
import { signInWriteCount } from '../db/sign-in-writes.ts';
import type { AppEnv } from '../http/context.ts';
import type { Metrics } from '../observability/metrics.ts';

/**
 * A per-instance cache of sign-ins that may answer a request without the database, while keeping
 * the rule that a change of a sign-in applies to the very next request on every instance
 * (docs/decisions/0029-sign-in-cache-with-acknowledged-invalidation.md):
 *
 * - an entry is the user row the sign-in check read, with the session's expiry; it is never used
 *   past that expiry nor past `maxAgeMs` (the window for writes made outside the portal);
 * - a request that changed a sign-in (any UPDATE/DELETE of `users` or `auth_sessions`, seen by
 *   src/db/sign-in-writes.ts) is answered only after every instance has dropped its entries and
 *   said so (`invalidate`, awaited by `signInWriteBarrier`);
 * - an entry filled by a check that started before an invalidation was processed is not kept
 *   (`generation`), so a slow read can never put back what an invalidation removed;
 * - the scaled adapter answers from the cache only while its subscriber connection has proved,
 *   within the last second, that it has processed everything published before (`usable`).
 */
export interface SignInCache {
  readonly kind: 'embedded' | 'redis';
  /** The entry to answer `token` from now, or undefined (none, expired, too old, cache not usable). */
  get(token: string): SignInEntry | undefined;
  /** Take before the database read whose answer `set` will store. */
  generation(): number;
  /** Keeps `entry` unless an invalidation was processed since `generation` was taken. */
  set(token: string, entry: Omit<SignInEntry, 'storedAt'>, generation: number): void;
  /**
   * Drops every entry here (synchronously) and on every instance; resolves once each instance has
   * acknowledged, or after the acknowledgement timeout (when the staleness guard has taken over).
   */
  invalidate(): Promise<void>;
  /** Whether entries may be answered from now (the embedded adapter: always). */
  usable(): boolean;
  close(): Promise<void>;
}

export interface SignInEntry {
  user: UserRow;
  /** The session's `expires_at` (ms). */
  expiresAt: number;
  /** The session's `last_used_at` as last read or stamped (ms): the stamp is due a minute after it. */
  lastUsedAt: number;
  /** When the entry was stored (`performance.now()`). */
  storedAt: number;
}

export interface SignInCacheOptions {
  /** The safety net for writes made outside the portal (psql): an entry is re-read after this. */
  maxAgeMs: number;
  /** Entries kept at most; the oldest go first. */
  limit?: number;
  metrics?: Metrics | undefined;
}

/** The entries of one instance and the rules every adapter shares (expiry, age, size, generation). */
export class LocalEntries {
  readonly #byToken = new Map<string, SignInEntry>();
  #generation = 0;
  constructor(
    readonly maxAgeMs: number,
    readonly limit = 10_000,
  ) {}

  get(token: string): SignInEntry | undefined {
    const entry = this.#byToken.get(token);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now() || performance.now() - entry.storedAt >= this.maxAgeMs) {
      this.#byToken.delete(token);
      return undefined;
    }
    return entry;
  }

  generation() {
    return this.#generation;
  }

  set(token: string, entry: Omit<SignInEntry, 'storedAt'>, generation: number) {
    if (generation !== this.#generation) return;
    this.#byToken.delete(token);
    while (this.#byToken.size >= this.limit) {
      const oldest = this.#byToken.keys().next().value;
      if (oldest === undefined) break;
      this.#byToken.delete(oldest);
    }
    this.#byToken.set(token, { ...entry, storedAt: performance.now() });
  }

  clear() {
    this.#generation++;
    this.#byToken.clear();
  }

  get size() {
    return this.#byToken.size;
  }
}

/**
 * The instances of one process that invalidate one another: in production one cache per process;
 * tests attach two to show the contract the Redis adapter also keeps.
 */
export class InProcessRevocations {
  readonly members = new Set<LocalEntries>();
}

/**
 * One process (PGlite: nobody else can use the database): invalidation is synchronous, the cache
 * is always usable.
 */
export class EmbeddedSignInCache implements SignInCache {
  readonly kind = 'embedded';
  readonly #entries: LocalEntries;
  constructor(
    readonly options: SignInCacheOptions,
    readonly group = new InProcessRevocations(),
  ) {
    this.#entries = new LocalEntries(options.maxAgeMs, options.limit);
    group.members.add(this.#entries);
  }
  get(token: string) {
    return this.#entries.get(token);
  }
  generation() {
    return this.#entries.generation();
  }
  set(token: string, entry: Omit<SignInEntry, 'storedAt'>, generation: number) {
    this.#entries.set(token, entry, generation);
  }
  usable() {
    return true;
  }
  async invalidate() {
    for (const member of this.group.members) member.clear();
    this.options.metrics?.signInInvalidations.inc({ direction: 'sent' });
  }
  async close() {
    this.group.members.delete(this.#entries);
  }
}

/**
 * Wraps every write request (anything but GET, HEAD, OPTIONS): when it sent a statement that may
 * change a sign-in, its answer waits until every instance has dropped its cached sign-ins. The
 * count is process-wide, so a write that ran beside another request's sign-in change invalidates
 * too (harmless: one more round trip to Redis); the write itself can never be missed, whichever
 * route, rule or helper issued it. Concurrent invalidations are coalesced: a request joins the next
 * one that starts after its own handler finished.
 */
export function signInWriteBarrier(cache: SignInCache | undefined) {
  let running: Promise<void> | undefined;
  let queued: Promise<void> | undefined;
  const invalidateAfterNow = (): Promise<void> => {
    if (queued) return queued;
    if (!running) {
      running = cache!.invalidate().finally(() => {
        running = undefined;
      });
      return running;
    }
    queued = running.then(() => {
      queued = undefined;
      return invalidateAfterNow();
    });
    return queued;
  };
  return createMiddleware<AppEnv>(async (c, next) => {
    const method = c.req.method;
    if (!cache || method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
    const before = signInWriteCount();
    try {
      await next();
    } finally {
      if (signInWriteCount() !== before) await invalidateAfterNow();
    }
  });
}
