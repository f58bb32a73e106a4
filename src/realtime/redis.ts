import type { Redis } from 'ioredis';
import type { Dashboard } from '../dashboard/metrics.ts';
import { encodeFrame } from './frames.ts';
import type { RealtimeKeys } from './keys.ts';
import type {
  Bus,
  Commit,
  ControlFrame,
  DocState,
  OpeningRead,
  OpeningReply,
  RealtimeSession,
  RealtimeStore,
} from './ports.ts';
import { TurnBatch } from './turn-batch.ts';

/**
 * Stores version `expectedSeq + 1` only if `expectedSeq` is still the stored version; in the same
 * atomic step appends the frame to the capped history (or restarts it for a snapshot) and
 * publishes it. A stale leader's write fails the compare and changes nothing.
 */
const COMMIT = `
local current = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
-- The new version as given (a string: Lua would write a large number in exponent notation).
redis.call('HSET', KEYS[1], 'seq', ARGV[8], 'doc', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[7])
if ARGV[4] == 'snapshot' then
  redis.call('DEL', KEYS[2])
else
  redis.call('RPUSH', KEYS[2], ARGV[3])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
  redis.call('EXPIRE', KEYS[2], ARGV[7])
end
redis.call('PUBLISH', ARGV[5], ARGV[3])
return 1
`;

/**
 * Forgets the users whose watch expired (ARGV[1] = now in ms) together with their documents and
 * histories (KEYS[2i], KEYS[2i+1] for ARGV[i+1]). Nobody maintains
 * an unwatched user's document, so it must not outlive the watch and be served stale later. Atomic,
 * so a user watched again meanwhile (a new session) keeps the document it is being sent.
 */
const PRUNE = `
local now = tonumber(ARGV[1])
for i = 2, #KEYS, 2 do
  local id = ARGV[i / 2 + 1]
  local score = redis.call('ZSCORE', KEYS[1], id)
  if not score or tonumber(score) <= now then
    redis.call('ZREM', KEYS[1], id)
    redis.call('DEL', KEYS[i], KEYS[i + 1])
  end
end
return 0
`;

/** The history frames after `afterSeq`, from the stored version and capped history (see `history`). */
function framesAfter(seqRaw: string | null, frames: string[], afterSeq: number): string[] | undefined {
  const current = Number(seqRaw ?? 0);
  if (afterSeq === current) return [];
  const oldest = current - frames.length + 1;
  if (afterSeq > current || frames.length === 0 || oldest > afterSeq + 1) return undefined;
  return frames.slice(afterSeq + 1 - oldest);
}

export class RedisStore implements RealtimeStore {
  constructor(
    readonly redis: Redis,
    readonly keys: RealtimeKeys,
    /** How long a document and its history outlive the last session that watched them. */
    readonly docTtlSeconds: number,
    readonly historyLimit = 100,
  ) {
    redis.defineCommand('portalCommit', { numberOfKeys: 2, lua: COMMIT });
    redis.defineCommand('portalPrune', { lua: PRUNE });
  }

  async getDocs(userIds: readonly number[]) {
    const found = new Map<number, DocState>();
    if (userIds.length === 0) return found;
    const pipeline = this.redis.pipeline();
    for (const id of userIds) pipeline.hmget(this.keys.doc(id), 'seq', 'doc');
    const replies = (await pipeline.exec()) ?? [];
    replies.forEach(([error, value], i) => {
      const [seq, doc] = (value ?? []) as (string | null)[];
      if (!error && seq && doc)
        found.set(userIds[i]!, { seq: Number(seq), doc: JSON.parse(doc) as Dashboard });
    });
    return found;
  }

  async commit({ userId, expectedSeq, doc, frame, kind, seq = expectedSeq + 1 }: Commit) {
    const result = await (
      this.redis as unknown as { portalCommit(...args: (string | number)[]): Promise<number> }
    ).portalCommit(
      this.keys.doc(userId),
      this.keys.history(userId),
      expectedSeq,
      JSON.stringify(doc),
      frame,
      kind,
      this.keys.userChannel(userId),
      this.historyLimit,
      this.docTtlSeconds,
      String(seq),
    );
    return result > 0;
  }

  async history(userId: number, afterSeq: number) {
    const [[, seqRaw], [, frames]] = (await this.redis
      .multi()
      .hget(this.keys.doc(userId), 'seq')
      .lrange(this.keys.history(userId), 0, -1)
      .exec()) as [[unknown, string | null], [unknown, string[]]];
    return framesAfter(seqRaw, frames, afterSeq);
  }

  /**
   * One MULTI for every socket opening in the same turn (the gateway batches them): the watch,
   * and each resume's session, document version and history, read at one instant, so that each
   * version and history agree as in `history`.
   */
  async openings(reads: readonly OpeningRead[], untilMs: number): Promise<OpeningReply[]> {
    if (reads.length === 0) return [];
    const users = [...new Set(reads.map((r) => r.userId))];
    const multi = this.redis.multi();
    multi.zadd(this.keys.watched, 'GT', ...users.flatMap((id) => [untilMs, String(id)]));
    for (const id of users) {
      multi.expire(this.keys.doc(id), this.docTtlSeconds);
      multi.expire(this.keys.history(id), this.docTtlSeconds);
    }
    for (const { userId, resume } of reads) {
      if (!resume) continue;
      multi.hmget(this.keys.session(resume.sessionId), 'user_id', 'auth_session');
      if (resume.afterSeq === undefined) continue;
      multi.hget(this.keys.doc(userId), 'seq');
      multi.lrange(this.keys.history(userId), 0, -1);
    }
    const replies = ((await multi.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    let at = 1 + 2 * users.length;
    return reads.map(({ resume }) => {
      if (!resume) return { session: undefined, history: undefined };
      const [userId, authSessionId] = replies[at++] as (string | null)[];
      const session = userId && authSessionId ? { userId: Number(userId), authSessionId } : undefined;
      if (resume.afterSeq === undefined) return { session, history: undefined };
      const seqRaw = replies[at++] as string | null;
      const frames = replies[at++] as string[];
      return { session, history: framesAfter(seqRaw, frames, resume.afterSeq) };
    });
  }

  async dropDoc(userId: number) {
    await this.redis.del(this.keys.doc(userId), this.keys.history(userId));
  }

  async publishControl(userId: number, control: ControlFrame) {
    await this.redis.publish(this.keys.userChannel(userId), encodeFrame(control));
  }

  async createSession(session: RealtimeSession, ttlSeconds: number) {
    const id = crypto.randomUUID();
    await this.redis
      .multi()
      .hset(this.keys.session(id), 'user_id', session.userId, 'auth_session', session.authSessionId)
      .expire(this.keys.session(id), ttlSeconds)
      .exec();
    return id;
  }

  async getSession(sessionId: string) {
    const [userId, authSessionId] = await this.redis.hmget(
      this.keys.session(sessionId),
      'user_id',
      'auth_session',
    );
    return userId && authSessionId ? { userId: Number(userId), authSessionId } : undefined;
  }

  async expireSessions(sessionIds: readonly string[], ttlSeconds: number) {
    if (sessionIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of sessionIds) pipeline.expire(this.keys.session(id), ttlSeconds);
    await pipeline.exec();
  }

  async sweepSessions() {
    return 0; // session keys carry their own TTL
  }

  async watch(userIds: readonly number[], untilMs: number) {
    if (userIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    // GT: never shortens a later expiry set by another instance; still adds new members.
    pipeline.zadd(this.keys.watched, 'GT', ...userIds.flatMap((id) => [untilMs, String(id)]));
    for (const id of userIds) {
      pipeline.expire(this.keys.doc(id), this.docTtlSeconds);
      pipeline.expire(this.keys.history(id), this.docTtlSeconds);
    }
    await pipeline.exec();
  }

  async pruneWatches(nowMs: number) {
    // Bounded per call: a backlog of expired watches is worked off over the next batches.
    const expired = await this.redis.zrangebyscore(this.keys.watched, '-inf', nowMs, 'LIMIT', 0, 2000);
    if (expired.length === 0) return;
    await (
      this.redis as unknown as { portalPrune(...args: (string | number)[]): Promise<number> }
    ).portalPrune(
      1 + 2 * expired.length,
      this.keys.watched,
      ...expired.flatMap((id) => [this.keys.doc(Number(id)), this.keys.history(Number(id))]),
      nowMs,
      ...expired,
    );
  }

  async watchedUsers(nowMs: number) {
    await this.pruneWatches(nowMs);
    return (await this.redis.zrangebyscore(this.keys.watched, `(${nowMs}`, '+inf')).map(Number);
  }

  async watching(userIds: readonly number[], nowMs: number) {
    if (userIds.length === 0) return [];
    const scores = await this.redis.zmscore(this.keys.watched, ...userIds.map(String));
    return userIds.filter((_, i) => scores[i] !== null && Number(scores[i]) > nowMs);
  }

  async close() {}
}

/** Redis pub/sub on its own connection, plain SUBSCRIBE per user channel. */
export class RedisBus implements Bus {
  readonly #handlers = new Map<string, (message: string) => void>();
  readonly #listeners: (() => void)[] = [];
  #connectedOnce = false;

  constructor(readonly subscriber: Redis) {
    subscriber.on('message', (channel: string, message: string) => this.#handlers.get(channel)?.(message));
    subscriber.on('ready', () => {
      if (!this.#connectedOnce) {
        this.#connectedOnce = true;
        return;
      }
      // Resubscribe ourselves (autoResubscribe is off) so that we know when it has taken effect.
      void this.#resubscribe();
    });
    if (subscriber.status === 'ready') this.#connectedOnce = true;
  }

  async #resubscribe() {
    const channels = [...this.#handlers.keys()];
    try {
      if (channels.length > 0) await this.subscriber.subscribe(...channels);
      for (const listener of this.#listeners) listener();
    } catch {
      // The connection dropped again; the next 'ready' retries.
    }
  }

  /**
   * The channels of one turn in one SUBSCRIBE (a reconnect storm subscribes thousands of users at
   * once); a channel unsubscribed before its turn ended is left out.
   */
  readonly #subscribing = new TurnBatch<string, void>(async (asked) => {
    // ioredis writes SUBSCRIBE on a connection still running its ready check ('connect'), whose
    // INFO then fails in subscriber mode: wait until it is ready.
    if (this.subscriber.status === 'connect')
      await new Promise((resolve) => this.subscriber.once('ready', resolve));
    const channels = [...new Set(asked)].filter((channel) => this.#handlers.has(channel));
    if (channels.length > 0) await this.subscriber.subscribe(...channels);
    return asked.map(() => undefined);
  });

  async subscribe(channel: string, onMessage: (message: string) => void) {
    this.#handlers.set(channel, onMessage);
    await this.#subscribing.add(channel);
  }

  async unsubscribe(channel: string) {
    this.#handlers.delete(channel);
    await this.subscriber.unsubscribe(channel).catch(() => {});
  }

  onResubscribed(listener: () => void) {
    this.#listeners.push(listener);
  }

  async close() {
    this.subscriber.disconnect();
  }
}
