import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import { CLOSE, type ControlFrame, decodeFrame, encodeFrame, type FrameHead, frameHead } from './frames.ts';
import type { RealtimeKeys } from './keys.ts';
import type { Bus, DocState, RealtimeStore } from './ports.ts';
import type { ClientSocket } from './socket.ts';

/** One open socket of one realtime session. */
export interface Connection {
  /** The runtime's socket behind the port of ./socket.ts (Node's `ws` or Deno's WebSocket). */
  ws: ClientSocket;
  userId: number;
  sessionId: string;
  authSessionId: string;
  /** The version of the document this socket has been sent. */
  seq: number;
  /** False until its snapshot or replay is sent; frames arriving meanwhile wait in `pending`. */
  ready: boolean;
  pending: string[];
  lastSeen: number;
}

export interface HubOptions {
  store: RealtimeStore;
  bus: Bus;
  keys: RealtimeKeys;
  /** Current document of a user, creating it when none is stored (a new or expired one). */
  documentOf: (userId: number) => Promise<DocState | undefined>;
  logger: Logger;
  /** A socket with more than this waiting to be sent is closed (CLOSE.slowConsumer). Default 1 MiB. */
  maxBufferedBytes?: number;
  metrics?: Metrics;
}

/**
 * This instance's sockets, grouped by user. Subscribes to a user's channel while the user has a
 * socket here, and relays each frame text, as published, to every socket of that user: a frame is
 * serialised once per user (by the leader), never per socket.
 */
export class Hub {
  readonly #users = new Map<number, Set<Connection>>();
  readonly #subscribing = new Map<number, Promise<void>>();

  readonly store: RealtimeStore;
  readonly bus: Bus;
  readonly keys: RealtimeKeys;
  readonly documentOf: HubOptions['documentOf'];
  readonly logger: Logger;
  readonly maxBufferedBytes: number;
  readonly metrics: Metrics | undefined;

  constructor(options: HubOptions) {
    this.store = options.store;
    this.bus = options.bus;
    this.keys = options.keys;
    this.documentOf = options.documentOf;
    this.logger = options.logger;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1 << 20;
    this.metrics = options.metrics;
    // Messages published while the bus was reconnecting are lost: bring every socket up to date.
    this.bus.onResubscribed(() => void this.catchUpAll());
  }

  get connections(): number {
    let n = 0;
    for (const set of this.#users.values()) n += set.size;
    return n;
  }

  /** Open (or opening) sockets of one user here. */
  socketsOf(userId: number): number {
    return this.#users.get(userId)?.size ?? 0;
  }

  get userIds(): number[] {
    return [...this.#users.keys()];
  }

  *all(): Iterable<Connection> {
    for (const set of this.#users.values()) yield* set;
  }

  /** Resolves once the socket's user channel is subscribed: nothing published later is missed. */
  async add(conn: Connection) {
    let set = this.#users.get(conn.userId);
    if (!set) {
      set = new Set();
      this.#users.set(conn.userId, set);
      set.add(conn);
      const subscribed = this.bus.subscribe(this.keys.userChannel(conn.userId), (message) =>
        this.#onMessage(conn.userId, message),
      );
      this.#subscribing.set(conn.userId, subscribed);
      try {
        await subscribed;
      } finally {
        this.#subscribing.delete(conn.userId);
      }
    } else {
      set.add(conn);
      // A second tab opening while the first one's subscription is on its way waits for it too.
      await this.#subscribing.get(conn.userId);
    }
  }

  async remove(conn: Connection) {
    const set = this.#users.get(conn.userId);
    if (!set?.delete(conn) || set.size > 0) return;
    this.#users.delete(conn.userId);
    await this.bus.unsubscribe(this.keys.userChannel(conn.userId));
  }

  /** Marks a socket ready (its snapshot or replay is sent) and delivers what arrived meanwhile. */
  ready(conn: Connection) {
    conn.ready = true;
    const pending = conn.pending;
    conn.pending = [];
    for (const frame of pending) this.#deliver(conn, frame);
  }

  send(conn: Connection, text: string): boolean {
    if (!conn.ws.isOpen) return false;
    // A client that does not read cannot grow our memory: close it; it resumes where it was.
    if (conn.ws.bufferedAmount > this.maxBufferedBytes) {
      conn.ws.close(CLOSE.slowConsumer, 'slow consumer');
      return false;
    }
    conn.ws.send(text);
    this.metrics?.framesDelivered.inc();
    return true;
  }

  #onMessage(userId: number, message: string) {
    const set = this.#users.get(userId);
    if (!set) return;
    // Read once per message, not once per socket.
    const head = frameHead(message);
    if (head?.type === 'control') {
      const { frame } = decodeFrame(message);
      if (frame?.type === 'control') this.#control(set, frame);
      return;
    }
    for (const conn of set) this.#deliver(conn, message, head);
    if (head?.at !== undefined)
      this.metrics?.deliveryLatency.observe(Math.max(0, Date.now() - head.at) / 1000);
  }

  #deliver(conn: Connection, frame: string, head: FrameHead | undefined = frameHead(frame)) {
    if (!conn.ready) {
      conn.pending.push(frame);
      return;
    }
    if (!head || head.seq <= conn.seq) return; // already covered by its snapshot or replay
    if (head.type === 'snapshot' || head.seq === conn.seq + 1) {
      if (this.send(conn, frame)) conn.seq = head.seq;
      return;
    }
    void this.resync(conn); // a gap: a frame was lost on the way
  }

  #control(set: Set<Connection>, control: ControlFrame) {
    for (const conn of [...set]) {
      if (control.action === 'close') conn.ws.close(control.code, 'closed');
      else if (!control.auth_session || control.auth_session === conn.authSessionId) {
        conn.ws.close(CLOSE.unauthenticated, 'signed out');
      }
    }
  }

  /** Sends a socket what it missed: the deltas from history when held, else a fresh snapshot. */
  async resync(conn: Connection) {
    conn.ready = false;
    try {
      const frames = await this.store.history(conn.userId, conn.seq);
      if (frames) {
        for (const frame of frames) conn.pending.unshift(frame);
        conn.pending.sort((a, b) => (frameHead(a)?.seq ?? 0) - (frameHead(b)?.seq ?? 0));
      } else {
        const state = await this.documentOf(conn.userId);
        if (!state) {
          conn.ws.close(CLOSE.unauthenticated, 'account unavailable');
          return;
        }
        // An older version than the socket's means the store lost its state (Redis restarted
        // empty) and started over: its version is the one deltas now continue from.
        if (this.send(conn, encodeFrame({ type: 'snapshot', seq: state.seq, data: state.doc })))
          conn.seq = state.seq;
      }
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message },
        'realtime: resync failed; closing so the client resumes',
      );
      conn.ws.close(CLOSE.draining, 'resync failed');
      return;
    }
    this.ready(conn);
  }

  async catchUpAll() {
    await Promise.all([...this.all()].map((conn) => (conn.ready ? this.resync(conn) : undefined)));
  }
}
