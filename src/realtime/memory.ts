import { encodeFrame } from './frames.ts';
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

/** In-process pub/sub for embedded mode (one instance, nothing to reconnect). */
export class MemoryBus implements Bus {
  readonly #handlers = new Map<string, (message: string) => void>();
  publish(channel: string, message: string) {
    // Delivered on a later tick, as a network bus would.
    const handler = this.#handlers.get(channel);
    if (handler) queueMicrotask(() => handler(message));
  }
  async subscribe(channel: string, onMessage: (message: string) => void) {
    this.#handlers.set(channel, onMessage);
  }
  async unsubscribe(channel: string) {
    this.#handlers.delete(channel);
  }
  onResubscribed() {}
  async close() {
    this.#handlers.clear();
  }
}

/** In-process realtime state for embedded mode: the same contract as the Redis store. */
export class MemoryStore implements RealtimeStore {
  readonly #docs = new Map<number, DocState>();
  readonly #history = new Map<number, { seq: number; frame: string }[]>();
  readonly #sessions = new Map<string, RealtimeSession & { expiresAt: number }>();
  readonly #watched = new Map<number, number>();

  constructor(
    readonly bus: MemoryBus,
    readonly channel: (userId: number) => string,
    readonly historyLimit = 100,
  ) {}

  async getDocs(userIds: readonly number[]) {
    const found = new Map<number, DocState>();
    for (const id of userIds) {
      const state = this.#docs.get(id);
      if (state) found.set(id, state);
    }
    return found;
  }

  async commit({ userId, expectedSeq, doc, frame, kind, seq = expectedSeq + 1 }: Commit) {
    if ((this.#docs.get(userId)?.seq ?? 0) !== expectedSeq) return false;
    this.#docs.set(userId, { seq, doc });
    const history = kind === 'snapshot' ? [] : (this.#history.get(userId) ?? []);
    if (kind === 'delta') history.push({ seq, frame });
    this.#history.set(userId, history.slice(-this.historyLimit));
    this.bus.publish(this.channel(userId), frame);
    return true;
  }

  async history(userId: number, afterSeq: number) {
    const current = this.#docs.get(userId)?.seq ?? 0;
    if (afterSeq === current) return [];
    const held = this.#history.get(userId) ?? [];
    if (afterSeq > current || held.length === 0 || held[0]!.seq > afterSeq + 1) return undefined;
    return held.filter((h) => h.seq > afterSeq).map((h) => h.frame);
  }

  async openings(reads: readonly OpeningRead[], untilMs: number): Promise<OpeningReply[]> {
    await this.watch([...new Set(reads.map((r) => r.userId))], untilMs);
    return Promise.all(
      reads.map(async ({ userId, resume }) => ({
        session: resume ? await this.getSession(resume.sessionId) : undefined,
        history: resume?.afterSeq === undefined ? undefined : await this.history(userId, resume.afterSeq),
      })),
    );
  }

  async dropDoc(userId: number) {
    this.#docs.delete(userId);
    this.#history.delete(userId);
  }

  async publishControl(userId: number, control: ControlFrame) {
    this.bus.publish(this.channel(userId), encodeFrame(control));
  }

  async createSession(session: RealtimeSession, ttlSeconds: number) {
    const id = crypto.randomUUID();
    this.#sessions.set(id, { ...session, expiresAt: Date.now() + ttlSeconds * 1000 });
    return id;
  }

  async getSession(sessionId: string) {
    const session = this.#sessions.get(sessionId);
    if (!session) return undefined;
    if (session.expiresAt <= Date.now()) {
      this.#sessions.delete(sessionId);
      return undefined;
    }
    return { userId: session.userId, authSessionId: session.authSessionId };
  }

  async expireSessions(sessionIds: readonly string[], ttlSeconds: number) {
    for (const id of sessionIds) {
      const session = this.#sessions.get(id);
      if (session) session.expiresAt = Date.now() + ttlSeconds * 1000;
    }
  }

  /** Run on every heartbeat: an expired session nobody asks about again must not stay in memory. */
  async sweepSessions(nowMs: number) {
    let removed = 0;
    for (const [id, session] of this.#sessions) {
      if (session.expiresAt <= nowMs) {
        this.#sessions.delete(id);
        removed++;
      }
    }
    return removed;
  }

  /** Sessions held, expired ones not yet swept included. */
  get sessionCount() {
    return this.#sessions.size;
  }

  async watch(userIds: readonly number[], untilMs: number) {
    for (const id of userIds) this.#watched.set(id, Math.max(untilMs, this.#watched.get(id) ?? 0));
  }

  async pruneWatches(nowMs: number) {
    for (const [id, until] of this.#watched) {
      if (until <= nowMs) {
        this.#watched.delete(id);
        await this.dropDoc(id);
      }
    }
  }

  async watchedUsers(nowMs: number) {
    await this.pruneWatches(nowMs);
    return [...this.#watched.keys()];
  }

  async watching(userIds: readonly number[], nowMs: number) {
    return userIds.filter((id) => (this.#watched.get(id) ?? 0) > nowMs);
  }

  async close() {}
}
