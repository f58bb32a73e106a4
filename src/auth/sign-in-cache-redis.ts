import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  LocalEntries,
  type SignInCache,
  type SignInCacheOptions,
  type SignInEntry,
} from './sign-in-cache.ts';

/** Every Redis channel the sign-in cache uses (same prefix convention as src/realtime/keys.ts). */
export function signInCacheKeys(prefix: string) {
  return {
    /** Invalidations: `{"id", "from"}`; every instance drops its entries and acknowledges. */
    invalidations: `${prefix}:signin:inval`,
    /** Acknowledgements for one instance's invalidations (the invalidation id). */
    acks: (instance: string) => `${prefix}:signin:ack:${instance}`,
  };
}

export interface RedisSignInCacheOptions extends SignInCacheOptions {
  /** How often the subscriber connection is pinged. */
  pingEveryMs?: number;
  /** The cache is used only while the last processed PONG answers a PING sent less than this ago. */
  freshMs?: number;
  /** How long an invalidation waits for acknowledgements; must exceed `freshMs`. */
  ackTimeoutMs?: number;
  logger?: Logger | undefined;
}

/**
 * The scaled adapter: Redis pub/sub on a connection of its own.
 *
 * Invalidation: drop the local entries, PUBLISH (the reply says how many subscribers received it),
 * wait for that many acknowledgements on this instance's ack channel, or `ackTimeoutMs`.
 *
 * Staleness guard, independent of acknowledgements: the subscriber connection is PINGed every
 * `pingEveryMs`, and entries are answered only while the last PONG processed answered a PING sent
 * less than `freshMs` ago. Replies on one connection come in order, so that PONG came after every
 * message published before its PING reached Redis: an invalidation published more than `freshMs`
 * ago has been processed here, or this instance does not answer from its cache. The ack timeout
 * is longer than `freshMs`, so when a revoking instance stops waiting, no instance can still be
 * answering from an entry the invalidation removed, however long its event loop stalled.
 * A lost or re-established subscriber connection clears the cache.
 */
export class RedisSignInCache implements SignInCache {
  readonly kind = 'redis';
  readonly instance = crypto.randomUUID();
  readonly keys: ReturnType<typeof signInCacheKeys>;
  readonly #entries: LocalEntries;
  readonly #pingEveryMs: number;
  readonly #freshMs: number;
  readonly #ackTimeoutMs: number;
  readonly #waiting = new Map<string, { received: number; needed: number; done: () => void }>();
  /** Bumped whenever the subscriber connection is lost: PONGs of an older connection do not count. */
  #connection = 0;
  #subscribed = false;
  /** When (performance.now()) the PING of the last processed PONG was sent. */
  #provenAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(
    readonly redis: Redis,
    readonly subscriber: Redis,
    prefix: string,
    readonly options: RedisSignInCacheOptions,
  ) {
    this.keys = signInCacheKeys(prefix);
    this.#entries = new LocalEntries(options.maxAgeMs, options.limit);
    this.#pingEveryMs = options.pingEveryMs ?? 250;
    this.#freshMs = options.freshMs ?? 1000;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 1500;
    if (this.#ackTimeoutMs <= this.#freshMs) throw new Error('ackTimeoutMs must exceed freshMs');
    subscriber.on('message', (channel: string, message: string) => this.#onMessage(channel, message));
    const lost = () => this.#lost();
    subscriber.on('error', lost);
    subscriber.on('close', lost);
    subscriber.on('end', lost);
    subscriber.on('reconnecting', lost);
    subscriber.on('ready', () => void this.#subscribe());
    if (subscriber.status === 'ready') void this.#subscribe();
    this.#timer = setInterval(() => this.#ping(), this.#pingEveryMs);
    this.#timer.unref?.();
  }

  /** Resolves once the subscriptions are in place and a PING after them was answered. */
  async ready(timeoutMs = 5000): Promise<void> {
    const until = performance.now() + timeoutMs;
    while (!this.usable()) {
      if (performance.now() > until) throw new Error('sign-in cache: the Redis subscriber is not ready');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  usable(): boolean {
    return this.#subscribed && performance.now() - this.#provenAt < this.#freshMs;
  }

  get(token: string): SignInEntry | undefined {
    return this.usable() ? this.#entries.get(token) : undefined;
  }

  generation() {
    return this.#entries.generation();
  }

  set(token: string, entry: Omit<SignInEntry, 'storedAt'>, generation: number) {
    this.#entries.set(token, entry, generation);
  }

  async invalidate(): Promise<void> {
    this.#entries.clear(); // this instance at once, whatever Redis does
    this.options.metrics?.signInInvalidations.inc({ direction: 'sent' });
    const id = crypto.randomUUID();
    let done!: () => void;
    const acknowledged = new Promise<void>((resolve) => {
      done = resolve;
    });
    const wait = { received: 0, needed: Number.POSITIVE_INFINITY, done };
    // Registered before publishing: an acknowledgement may overtake PUBLISH's own reply.
    this.#waiting.set(id, wait);
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#ackTimeoutMs);
    });
    try {
      const message = JSON.stringify({ id, from: this.instance });
      let receivers: number | undefined;
      // A failed PUBLISH is retried until the timeout: the write is committed, others must hear it.
      while (receivers === undefined && performance.now() - started < this.#ackTimeoutMs) {
        try {
          receivers = await this.redis.publish(this.keys.invalidations, message);
        } catch (error) {
          this.options.metrics?.errors.inc({ component: 'redis' });
          this.options.logger?.warn({ err: (error as Error).message }, 'sign-in cache: PUBLISH failed');
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      if (receivers !== undefined) {
        wait.needed = receivers;
        if (wait.received >= wait.needed) wait.done();
      }
      const outcome = await Promise.race([acknowledged, timedOut]);
      if (outcome === 'timeout') {
        this.options.metrics?.signInAckTimeouts.inc();
        this.options.logger?.warn(
          { receivers, acknowledged: wait.received },
          'sign-in cache: not every instance acknowledged an invalidation in time (their caches are unusable by now)',
        );
      }
    } finally {
      clearTimeout(timer);
      this.#waiting.delete(id);
    }
  }

  async close() {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#entries.clear();
    this.subscriber.disconnect();
  }

  #onMessage(channel: string, message: string) {
    if (channel === this.keys.invalidations) {
      this.#entries.clear();
      this.options.metrics?.signInInvalidations.inc({ direction: 'received' });
      let from: string | undefined;
      let id: string | undefined;
      try {
        ({ id, from } = JSON.parse(message) as { id?: string; from?: string });
      } catch {}
      if (id && from) {
        this.redis.publish(this.keys.acks(from), id).catch(() => {
          this.options.metrics?.errors.inc({ component: 'redis' });
        });
      }
    } else if (channel === this.keys.acks(this.instance)) {
      const wait = this.#waiting.get(message);
      if (!wait) return;
      wait.received++;
      if (wait.received >= wait.needed) wait.done();
    }
  }

  #lost() {
    this.#connection++;
    this.#subscribed = false;
    this.#provenAt = Number.NEGATIVE_INFINITY;
    this.#entries.clear();
  }

  async #subscribe() {
    if (this.#closed) return;
    const connection = ++this.#connection;
    this.#subscribed = false;
    this.#entries.clear();
    try {
      await this.subscriber.subscribe(this.keys.invalidations, this.keys.acks(this.instance));
      if (connection !== this.#connection) return;
      // Again now that the subscription is in force: a sign-in check that started before it
      // may have read a row an invalidation published meanwhile (unheard here) removed.
      this.#entries.clear();
      this.#subscribed = true;
      this.#ping();
    } catch {
      // The connection went away again; its 'ready' subscribes anew.
    }
  }

  #ping() {
    if (!this.#subscribed || this.subscriber.status !== 'ready') return;
    const connection = this.#connection;
    const sentAt = performance.now();
    this.subscriber.ping().then(
      () => {
        if (connection === this.#connection && sentAt > this.#provenAt) this.#provenAt = sentAt;
      },
      () => {},
    );
  }
}
