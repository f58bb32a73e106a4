import type { Logger } from 'pino';
import type { Database, ListenerConnection } from '../db/database.ts';

/** Runs `lead` while this instance is the leader; `lead` must return once `signal` aborts. */
export type LeaderWork = (connection: ListenerConnection, signal: AbortSignal) => Promise<void>;

export interface Leadership {
  start(lead: LeaderWork): void;
  /** Gives leadership up at once (SIGTERM): another instance takes over. */
  stop(): Promise<void>;
  readonly isLeader: boolean;
}

/** Arbitrary constant naming "the realtime leader" among advisory locks. */
const LEADER_LOCK = 7_262_003;

/**
 * Leader election by a PostgreSQL advisory lock held on the leader's LISTEN connection
 * (docs/decisions/0007-leader-election.md). Followers wait inside `pg_advisory_lock` on a
 * connection of their own: no polling, and the moment the leader's connection dies (crash,
 * kill -9, network) the database releases the lock and one follower holds it.
 */
export class AdvisoryLockLeadership implements Leadership {
  #stopped = false;
  #leader = false;
  #connection: ListenerConnection | undefined;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(
    readonly database: Database,
    readonly logger: Logger,
  ) {}

  get isLeader() {
    return this.#leader;
  }

  start(lead: LeaderWork) {
    this.#loop = this.#run(lead);
  }

  async #run(lead: LeaderWork) {
    let backoff = 200;
    while (!this.#stopped) {
      let connection: ListenerConnection | undefined;
      try {
        connection = await this.database.openListener();
        this.#connection = connection;
        const abort = new AbortController();
        this.#abort = abort;
        const lost = new Promise<never>((_, reject) =>
          connection!.onLost((error) => {
            abort.abort();
            reject(error);
          }),
        );
        lost.catch(() => {});
        await Promise.race([connection.query('select pg_advisory_lock($1)', [LEADER_LOCK]), lost]);
        if (this.#stopped) break;
        this.#leader = true;
        backoff = 200;
        this.logger.info('realtime: this instance is the leader');
        await lead(connection, abort.signal);
      } catch (error) {
        if (!this.#stopped)
          this.logger.warn({ err: (error as Error).message }, 'realtime: leader connection lost');
      } finally {
        if (this.#leader) this.logger.info('realtime: leadership released');
        this.#leader = false;
        this.#abort?.abort();
        await connection?.close();
      }
      if (this.#stopped) break;
      // 0.2–0.4 s, doubling up to 2–4 s: a follower that lost its connection must be back in
      // line quickly, or a leader dying meanwhile would leave nobody to take over.
      await new Promise((r) => setTimeout(r, backoff + Math.random() * backoff));
      backoff = Math.min(backoff * 2, 2000);
    }
  }

  async stop() {
    this.#stopped = true;
    this.#abort?.abort();
    await this.#connection?.close();
    await this.#loop;
  }
}

/** Embedded mode: the one process is the leader, on the in-process database connection. */
export class EmbeddedLeadership implements Leadership {
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #leader = false;

  constructor(readonly database: Database) {}

  get isLeader() {
    return this.#leader;
  }

  start(lead: LeaderWork) {
    this.#loop = (async () => {
      const connection = await this.database.openListener();
      this.#leader = true;
      try {
        await lead(connection, this.#abort.signal);
      } finally {
        this.#leader = false;
        await connection.close();
      }
    })();
  }

  async stop() {
    this.#abort.abort();
    await this.#loop;
  }
}
