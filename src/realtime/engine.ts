import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import { computeDashboards } from '../dashboard/metrics.ts';
import type { Database, ListenerConnection } from '../db/database.ts';
import { users } from '../db/schema/index.ts';
import { loggable } from '../observability/loggable.ts';
import type { Metrics } from '../observability/metrics.ts';
import { ChangeFeed, type ChangeRow, PRUNE_LIMIT } from './feed.ts';
import { CLOSE, encodeFrame, firstSeq } from './frames.ts';
import { diff, type Json } from './merge-patch.ts';
import type { DocState, RealtimeStore } from './ports.ts';

export interface EngineOptions {
  /** Changes arriving within this window are computed together. */
  coalesceMs: number;
  /** The safety sweep: reads the log even without a notification. */
  sweepMs: number;
  /** On each sweep, changes older than this many days are deleted (0: kept forever). */
  retentionDays?: number;
}

/** What the engine works with (its settings are `EngineOptions`). */
export interface EngineDeps {
  database: Database;
  store: RealtimeStore;
  logger: Logger;
  metrics?: Metrics | undefined;
  /**
   * Called on each `portal_sign_ins` notification (a user row or a sign-in's end changed, from
   * the portal or from outside it: db/migrations/0009_sign_in_notify.sql), while this instance
   * leads: the sign-in caches of every instance are dropped (docs/decisions/0032).
   */
  onSignInChange?: (() => void) | undefined;
}

export interface PublishOptions {
  /** Recompute every watched user (the UTC day changed: overdue counts and the 14-day chart move). */
  everyone?: boolean;
  /**
   * Also look at every watched user: expired watches are pruned and a watched user without a
   * document gets one. Default: when there are no rows.
   */
  full?: boolean;
}

export interface EngineStats {
  batches: number;
  changes: number;
  usersComputed: number;
  deltas: number;
  snapshots: number;
  /** SQL statements of the last batch that had changes (feed read + dashboards + cursor write). */
  lastBatchStatements: number;
  lagMs: number;
}

const utcDay = () => new Date().toISOString().slice(0, 10);

/**
 * The leader's work: wake on NOTIFY (or the sweep), read the log, recompute the documents of
 * the watched users a batch of changes touches, and publish one delta per changed document.
 */
export class Engine {
  readonly stats: EngineStats = {
    batches: 0,
    changes: 0,
    usersComputed: 0,
    deltas: 0,
    snapshots: 0,
    lastBatchStatements: 0,
    lagMs: 0,
  };

  /** Users whose commit lost a compare-and-set: computed again on the next pass. */
  readonly #retry = new Set<number>();
  /** Active admins (every change touches their documents); reloaded when a users row changes. */
  #admins: number[] | undefined;

  readonly database: Database;
  readonly store: RealtimeStore;
  readonly logger: Logger;
  readonly metrics: Metrics | undefined;
  readonly options: EngineOptions;
  readonly #onSignInChange: (() => void) | undefined;

  constructor({ database, store, logger, metrics, onSignInChange, ...options }: EngineDeps & EngineOptions) {
    this.database = database;
    this.store = store;
    this.logger = logger;
    this.metrics = metrics;
    this.options = options;
    this.#onSignInChange = onSignInChange;
  }

  /** Leads until `signal` aborts (leadership lost or given up). */
  lead = async (connection: ListenerConnection, signal: AbortSignal) => {
    const feed = new ChangeFeed(connection);
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> | undefined;
    let again = false;
    let day = utcDay();
    // A full pass looks at every watched user (new ones without a document, expired watches):
    // on start and on each sweep only. A pass for changes looks at the users they touch.
    let full = true;

    const drain = async () => {
      let passes = 0;
      do {
        again = false;
        const rows = await feed.read();
        const today = utcDay();
        const dayChanged = today !== day;
        day = today;
        const thisFull = full || dayChanged;
        full = false;
        try {
          if (rows.length > 0 || thisFull || this.#retry.size > 0)
            await this.publish(rows, { everyone: dayChanged, full: thisFull });
        } catch (error) {
          feed.rewind(); // else these changes are never published (the sweep retries them)
          if (dayChanged) day = '';
          if (thisFull) full = true;
          throw error;
        }
        if (rows.length > 0) await feed.persist();
        if (thisFull && this.options.retentionDays) {
          // Up to 10 × PRUNE_LIMIT per sweep (3,300 changes/s at the default 30 s), in short statements.
          let removed = 0;
          for (let round = 0; round < 10; round++) {
            const n = await feed.prune(this.options.retentionDays);
            removed += n;
            if (n < PRUNE_LIMIT || signal.aborted) break;
          }
          if (removed > 0) this.logger.info({ removed }, 'realtime: change log pruned');
        }
        if (rows.length >= 5000 || this.#retry.size > 0) again = true;
      } while (again && !signal.aborted && ++passes < 10);
    };
    const schedule = () => {
      if (signal.aborted) return;
      if (running) {
        again = true;
        return;
      }
      timer ??= setTimeout(() => {
        timer = undefined;
        running = drain()
          .catch((error) => {
            this.metrics?.errors.inc({ component: 'realtime' });
            this.logger.error({ err: loggable(error) }, 'realtime: batch failed');
          })
          .finally(() => {
            running = undefined;
            if (again) schedule();
          });
      }, this.options.coalesceMs);
    };

    await connection.listen('portal_changes', schedule);
    // Listening starts after leading does: a change between two leaders is caught by the caches'
    // age limit (SIGN_IN_CACHE_SECONDS), and the new leader drops them all once on taking over.
    if (this.#onSignInChange) {
      await connection.listen('portal_sign_ins', this.#onSignInChange);
      this.#onSignInChange();
    }
    const sweep = setInterval(() => {
      full = true;
      schedule();
    }, this.options.sweepMs);
    schedule(); // on start: catch up with whatever happened while nobody listened
    // The connection may have been lost while listen() was answering: an already-aborted signal
    // fires no 'abort' event, and waiting for one would keep this instance out of every later
    // election (seen under load in failures.test.ts).
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    clearInterval(sweep);
    if (timer) clearTimeout(timer);
    await running;
  };

  /**
   * Recomputes and publishes the documents of watched users that `rows` touch (and of users whose
   * last commit lost its compare-and-set).
   */
  async publish(rows: ChangeRow[], { everyone = false, full = rows.length === 0 }: PublishOptions = {}) {
    const started = performance.now();
    const statementsBefore = this.database.stats.statements;
    if (!this.#admins || rows.some((r) => r.table_name === 'users')) await this.#loadAdmins();
    const affected = new Set(rows.flatMap((r) => r.affected_user_ids));
    let watched: number[];
    let docs: Map<number, DocState>;
    if (full) {
      watched = await this.store.watchedUsers(Date.now());
      if (watched.length === 0) return;
      docs = await this.store.getDocs(watched);
    } else {
      // Side by side, not one after another: every await of a batch is paid again by each
      // change waiting behind it (docs/benchmarks.md, "Realtime tail and reconnect storm").
      // Pruning only forgets users whose watch expired, whom `watching` leaves out anyway; the
      // documents of users found unwatched are read for nothing and dropped.
      const asked = [...new Set([...affected, ...this.#retry, ...(rows.length > 0 ? this.#admins! : [])])];
      const [, found, read] = await Promise.all([
        this.store.pruneWatches(Date.now()),
        this.store.watching(asked, Date.now()),
        this.store.getDocs(asked),
      ]);
      watched = found;
      if (watched.length === 0) return;
      const keep = new Set(watched);
      docs = new Map([...read].filter(([id]) => keep.has(id)));
    }
    const newest = rows.reduce<number | undefined>(
      (max, r) => Math.max(max ?? 0, Math.round(r.at_ms)),
      undefined,
    );
    const retry = new Set(this.#retry);
    this.#retry.clear();
    const candidates = watched.filter(
      (id) =>
        everyone ||
        affected.has(id) ||
        retry.has(id) ||
        !docs.has(id) ||
        (rows.length > 0 && docs.get(id)!.doc.role === 'admin'),
    );
    if (candidates.length === 0) return;
    const computed = await computeDashboards(this.database.db, candidates);
    await Promise.all(
      candidates.map(async (id) => {
        const doc = computed.get(id);
        const previous = docs.get(id);
        if (!doc) {
          // Deactivated or deleted: their sockets close everywhere.
          await this.store.publishControl(id, {
            type: 'control',
            action: 'close',
            code: CLOSE.unauthenticated,
          });
          await this.store.dropDoc(id);
          return;
        }
        const seq = previous?.seq ?? 0;
        let ok: boolean;
        if (!previous || previous.doc.role !== doc.role) {
          // New document, or a role change re-scopes it: a snapshot replaces the client's state.
          const next = previous ? seq + 1 : firstSeq();
          ok = await this.store.commit({
            userId: id,
            expectedSeq: seq,
            doc,
            frame: encodeFrame({ type: 'snapshot', seq: next, data: doc }),
            kind: 'snapshot',
            seq: next,
          });
          if (ok) {
            this.stats.snapshots++;
            this.metrics?.framesPublished.inc({ kind: 'snapshot' });
          }
        } else {
          const patch = diff(previous.doc as unknown as Json, doc as unknown as Json);
          if (patch === undefined) return;
          ok = await this.store.commit({
            userId: id,
            expectedSeq: seq,
            doc,
            frame: encodeFrame({ type: 'delta', seq: seq + 1, at: newest, patch }),
            kind: 'delta',
          });
          if (ok) {
            this.stats.deltas++;
            this.metrics?.framesPublished.inc({ kind: 'delta' });
          }
        }
        if (!ok) this.#retry.add(id); // the version moved meanwhile (a new session's first document)
      }),
    );
    this.stats.batches++;
    this.stats.changes += rows.length;
    this.stats.usersComputed += candidates.length;
    // +2: the feed's read of the change log and its cursor write, on the listener connection.
    if (rows.length > 0)
      this.stats.lastBatchStatements = this.database.stats.statements - statementsBefore + 2;
    this.stats.lagMs = performance.now() - started;
    this.metrics?.batchDuration.observe(this.stats.lagMs / 1000);
    this.metrics?.batchChanges.observe(rows.length);
    if (newest !== undefined) this.metrics?.changeLogLag.set(Math.max(0, Date.now() - newest) / 1000);
  }

  async #loadAdmins() {
    const rows = await this.database.db
      .select({ id: users.id })
      .from(users)
      .where(and(eq(users.role, 'admin'), eq(users.active, true)));
    this.#admins = rows.map((r) => r.id);
  }
}
