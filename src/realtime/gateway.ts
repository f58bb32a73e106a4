import type { Context, Env, Hono } from 'hono';
import type { WSContext, WSEvents } from 'hono/ws';
import type { Logger } from 'pino';
import type { Actor } from '../auth/actor.ts';
import type { Metrics } from '../observability/metrics.ts';
import { CLOSE, encodeFrame } from './frames.ts';
import type { Connection, Hub } from './hub.ts';
import type { OpeningRead, OpeningReply, RealtimeStore } from './ports.ts';
import { type ClientSocket, incomingBytes, type SocketLayer, type UpgradeHead } from './socket.ts';
import { TurnBatch } from './turn-batch.ts';

export interface GatewayOptions {
  heartbeatMs: number;
  sessionTtlSeconds: number;
  /** How long a live session's keys last between refreshes (see `liveTtlSeconds`). */
  liveTtlSeconds: number;
  /** Open sockets one user may hold on this instance; one more is closed with 4429. */
  maxSocketsPerUser: number;
  /**
   * Upgrades opening at once on this instance (from the upgrade request until the snapshot is
   * sent); one more is answered 503 with Retry-After before the upgrade, where the runtime can.
   */
  maxOpening?: number;
}

/** Default of `GatewayOptions.maxOpening` (docs/decisions/0025-open-storms.md). */
export const MAX_OPENING = 200;

/**
 * Upgrades that may wait for an open to end, per upgrade allowed to be opening, before the next is
 * refused with 503, and how long one may wait (docs/decisions/0031-socket-opens-without-the-middleware.md).
 */
export const WAITING_PER_OPENING = 25;
export const MAX_WAIT_MS = 10_000;

/** A sign-in still in force, and whether its user must change their password before anything else. */
export interface SignInState {
  mustChangePassword: boolean;
}

/** Which of these sign-ins (auth session ids) are still in force: one query for all of them. */
export type SignInCheck = (authSessionIds: readonly string[]) => Promise<Map<string, SignInState>>;

/** What the gateway works with (its settings are `GatewayOptions`). */
export interface GatewayDeps {
  hub: Hub;
  store: RealtimeStore;
  logger: Logger;
  /** Which sign-ins are still in force (checked on open and every heartbeat). */
  signIns: SignInCheck;
  metrics?: Metrics | undefined;
}

/** A live session must outlive a missed heartbeat or two before it starts counting down. */
export const liveTtlSeconds = (sessionTtlSeconds: number, heartbeatMs: number) =>
  sessionTtlSeconds + Math.ceil((3 * heartbeatMs) / 1000);

/**
 * Who is opening a socket, as the HTTP layer decided it (src/server.ts): the signed-in actor, if
 * any, and whether the Origin may use the sign-in that came with the upgrade (a cookie needs this
 * portal's own Origin; a bearer token does not).
 */
export type Admission = (c: Context) => { actor: Actor | undefined; originAllowed: boolean };

/**
 * The same decision from an upgrade's headers alone, for runtimes that take upgrades before any
 * routing (`SocketLayer.direct`): the signed token's user and sign-in, unchecked against the
 * database (the gateway checks them before the socket gets data), and the Origin's verdict.
 */
export type HeadAdmission = (header: (name: string) => string | undefined) => {
  signIn: { userId: number; sessionId: string } | undefined;
  originAllowed: boolean;
};

/** Sockets pinged per slice of a heartbeat before the event loop is let go for other work. */
export const HEARTBEAT_SLICE = 250;

/** Largest frame a client may send; the protocol has nothing for clients to say beyond keep-alive. */
export const MAX_INCOMING_BYTES = 64 * 1024;

/**
 * `GET /ws` (docs/contract.md §6): authenticates (on Node from the upgrade's headers, before any
 * routing; on Deno the identify middleware read the cookie or bearer token and the user afresh),
 * checks the Origin of cookie-authenticated upgrades, opens or resumes a realtime session, and
 * keeps sockets alive with pings.
 */
export class Gateway {
  /** Upgrades refused with 503 because too many were opening (admission control). */
  refused = 0;
  #draining = false;
  /** The sign-ins asked about in one turn of the event loop, checked with one query (`#signedIn`). */
  readonly #signInChecks = new TurnBatch<string, SignInState | undefined>(async (ids) => {
    const live = await this.signIns([...new Set(ids)]);
    return ids.map((id) => live.get(id));
  });
  #refreshedAt = 0;
  /** The Redis reads of the sockets opening in one turn of the event loop, asked in one round trip. */
  readonly #openReads = new TurnBatch<OpeningRead, OpeningReply>((reads) =>
    this.store.openings(reads, Date.now() + this.options.liveTtlSeconds * 1000),
  );
  /** Resumed sessions of one turn, given back their live TTL in one round trip. */
  readonly #resumedSessions = new TurnBatch<string, void>(async (ids) => {
    await this.store.expireSessions(ids, this.options.liveTtlSeconds);
    return ids.map(() => undefined);
  });
  #lastBeatAt = Date.now();
  readonly #heartbeat: NodeJS.Timeout;

  readonly hub: Hub;
  readonly store: RealtimeStore;
  readonly logger: Logger;
  readonly signIns: SignInCheck;
  readonly metrics: Metrics | undefined;
  readonly options: GatewayOptions;

  constructor({ hub, store, logger, signIns, metrics, ...options }: GatewayDeps & GatewayOptions) {
    this.hub = hub;
    this.metrics = metrics;
    this.store = store;
    this.logger = logger;
    this.signIns = signIns;
    this.options = options;
    this.#heartbeat = setInterval(() => void this.#beat(), options.heartbeatMs);
    this.#heartbeat.unref();
  }

  register<E extends Env>(app: Hono<E>, sockets: SocketLayer, admit: Admission, admitHead?: HeadAdmission) {
    const limits = { silenceMs: 2 * this.options.heartbeatMs, maxIncomingBytes: MAX_INCOMING_BYTES };
    sockets.limitOpening?.({
      maxOpening: this.options.maxOpening ?? MAX_OPENING,
      maxWaiting: WAITING_PER_OPENING * (this.options.maxOpening ?? MAX_OPENING),
      maxWaitMs: MAX_WAIT_MS,
      retryAfterSeconds: 1,
      onRefused: () => {
        this.refused++;
      },
    });
    // One set of closures for every socket: each socket's events object (SocketEvents) reaches
    // the gateway through it, with no closure of its own.
    const side: SocketSide = {
      sockets,
      hub: this.hub,
      logger: this.logger,
      maxSocketsPerUser: this.options.maxSocketsPerUser,
      draining: () => this.#draining,
      open: (conn, requestedId, lastSeq) => this.#open(conn, requestedId, lastSeq),
      closed: (conn) => this.#closed(conn),
    };
    // Where the runtime can, upgrades skip the app: its middleware chain, the Request and Context
    // it builds, and the identify middleware's sign-in read per socket, replaced by the batched
    // check below (docs/decisions/0031-socket-opens-without-the-middleware.md).
    if (sockets.direct && admitHead) {
      sockets.direct(
        '/ws',
        async (head: UpgradeHead) => {
          const { signIn, originAllowed } = admitHead((name) => head.header(name));
          let live = signIn;
          if (signIn && originAllowed) {
            // The database's word before the upgrade too, as the identify middleware gave it, but
            // asked for every upgrade of the turn at once: a database that cannot answer refuses
            // the upgrade (503, Retry-After 5) instead of upgrading sockets only to close them.
            try {
              if (!(await this.#signedIn(signIn.sessionId))) live = undefined;
            } catch {
              return { refuse: { status: 503, retryAfterSeconds: 5 } };
            }
          }
          const query = new URLSearchParams(head.query);
          return new SocketEvents(side, head, {
            userId: live?.userId,
            authSessionId: live?.sessionId,
            badOrigin: !originAllowed,
            sessionId: query.get('session_id') ?? undefined,
            lastSeq: lastSeqOf(query.get('last_seq') ?? undefined),
          });
        },
        limits,
      );
    }
    app.get(
      '/ws',
      sockets.upgrade((c) => {
        const { actor, originAllowed } = admit(c);
        return new SocketEvents(side, new ContextRelease(sockets, c), {
          userId: actor?.id,
          authSessionId: actor?.sessionId,
          badOrigin: !originAllowed,
          sessionId: c.req.query('session_id'),
          lastSeq: lastSeqOf(c.req.query('last_seq')),
        });
      }, limits),
    );
  }

  async #open(conn: Connection, requestedId: string | undefined, lastSeq: number | undefined) {
    const { store, hub, options } = this;
    // Subscribed first, checked second: a revocation published from here on reaches this socket
    // through its channel, and one published earlier is already in the database, where the check
    // below sees it. (Checking only in the upgrade request left a window of several round trips.)
    await hub.add(conn);
    const signIn = await this.#signedIn(conn.authSessionId);
    if (!signIn) return conn.ws.close(CLOSE.unauthenticated, 'signed out');
    // The HTTP layer sends such a user to the change-password page (src/auth/password-change.ts);
    // a socket taken before it (SocketLayer.direct) is refused here, before any data.
    if (signIn.mustChangePassword) return conn.ws.close(CLOSE.forbidden, 'password change required');
    if (!conn.ws.isOpen) return;
    // Side by side, not one after another: in a reconnect storm every round trip of a resume is
    // paid thousands of times over on a busy event loop (docs/benchmarks.md, "Realtime tail and
    // reconnect storm"). The history is read after the subscription above, so whatever is
    // published from here on waits in `pending` and the replay below has no hole; it is read
    // before we know whether the session resumes, and dropped if it does not.
    // And together with every other socket opening in the same turn: one Redis round trip (one
    // write) for all of them instead of three each (docs/decisions/0031-socket-opens-without-the-middleware.md).
    const asksResume = requestedId !== undefined && /^[0-9a-f-]{36}$/.test(requestedId);
    const { session: existing, history } = await this.#openReads.add({
      userId: conn.userId,
      resume: asksResume ? { sessionId: requestedId, afterSeq: lastSeq } : undefined,
    });
    // A resume is authenticated afresh (above) and must belong to the same user.
    const resumed = existing !== undefined && existing.userId === conn.userId;
    if (resumed) await this.#resumedSessions.add(requestedId!);
    conn.sessionId = resumed
      ? requestedId!
      : await store.createSession(
          { userId: conn.userId, authSessionId: conn.authSessionId },
          this.options.liveTtlSeconds,
        );
    // Closed meanwhile: onClose ran before the session existed, so its TTL is set here instead.
    if (!conn.ws.isOpen) return this.#closed(conn);
    hub.send(
      conn,
      encodeFrame({
        type: 'hello',
        session_id: conn.sessionId,
        resumed,
        heartbeat_ms: options.heartbeatMs,
      }),
    );
    const replay = resumed ? history : undefined;
    if (replay) {
      conn.seq = lastSeq!;
      conn.pending = [...replay, ...conn.pending];
    } else {
      const state = await hub.documentOf(conn.userId);
      if (!state) return conn.ws.close(CLOSE.unauthenticated, 'account unavailable');
      hub.send(conn, encodeFrame({ type: 'snapshot', seq: state.seq, data: state.doc }));
      conn.seq = state.seq;
    }
    hub.ready(conn);
  }

  /**
   * Whether one sign-in is in force, asked together with every other socket opening in the same
   * turn of the event loop: a storm of opens costs one query per turn, not one per socket.
   * (An open asks once its socket is subscribed, so the order above holds; the check before a
   * direct upgrade is an extra one, in the batch of its turn.)
   */
  #signedIn(authSessionId: string): Promise<SignInState | undefined> {
    return this.#signInChecks.add(authSessionId);
  }

  async #closed(conn: Connection) {
    await this.hub.remove(conn);
    if (!conn.sessionId) return;
    // Resumable for SESSION_TTL_SECONDS, on any instance; the leader keeps the document that long.
    await Promise.all([
      this.store.expireSessions([conn.sessionId], this.options.sessionTtlSeconds),
      this.store.watch([conn.userId], Date.now() + this.options.sessionTtlSeconds * 1000),
    ]).catch(() => {});
  }

  async #beat() {
    const now = Date.now();
    // A beat that runs late means this process was stalled (CPU starved, a long GC): the pongs
    // that arrived meanwhile are still queued behind this timer, so the silence is ours, not the
    // clients'. The allowance grows by the delay instead of terminating healthy sockets en masse.
    const stalledMs = Math.max(0, now - this.#lastBeatAt - this.options.heartbeatMs);
    this.#lastBeatAt = now;
    const limit = 2 * this.options.heartbeatMs + stalledMs;
    const conns = [...this.hub.all()];
    // In slices, yielding between them: one pass over thousands of sockets held the event loop
    // for hundreds of ms on a busy machine, and every delta arriving meanwhile waited behind it
    // (docs/benchmarks.md, "Realtime tail and reconnect storm").
    for (let i = 0; i < conns.length; i += HEARTBEAT_SLICE) {
      if (i > 0) await new Promise((resolve) => setImmediate(resolve));
      const sliceStarted = performance.now();
      for (let j = i; j < Math.min(i + HEARTBEAT_SLICE, conns.length); j++) {
        const conn = conns[j]!;
        // A socket that closed while it was still being added (its close ran before the add ended)
        // is not open any more: it leaves the hub here. ping() on it would throw and end this beat
        // before the sign-in re-check and the session sweep below.
        // A runtime that watches liveness itself (Deno's idleTimeout) closes silent sockets on its own.
        const liveness = conn.ws.liveness;
        if (!conn.ws.isOpen) void this.hub.remove(conn).catch(() => {});
        else if (liveness.kind === 'runtime') continue;
        else if (now - Math.max(conn.lastSeen, liveness.lastPongAt) > limit) conn.ws.terminate();
        else liveness.ping();
      }
      this.metrics?.heartbeatDuration.observe((performance.now() - sliceStarted) / 1000);
    }
    // The sweep first: it must not wait on the database (a busy embedded database can hold the
    // sign-in re-check for a while, and expired sessions would pile up meanwhile).
    await this.store.sweepSessions(now).catch(() => {});
    await this.#recheckSignIns();
    // Sessions, watches and documents live liveTtlSeconds (five minutes and more by default): refreshing
    // them every third of that, not on every beat, keeps them alive with 1/8 of the Redis commands
    // (what sets Redis's load per million sessions, docs/ARCHITECTURE.md).
    if (now - this.#refreshedAt < (this.options.liveTtlSeconds * 1000) / 3) return;
    const users = this.hub.userIds;
    if (users.length === 0) return;
    try {
      await this.store.watch(users, now + this.options.liveTtlSeconds * 1000);
      await this.store.expireSessions(
        [...this.hub.all()].map((conn) => conn.sessionId).filter((id) => id !== ''),
        this.options.liveTtlSeconds,
      );
      this.#refreshedAt = now;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'realtime: could not refresh sessions');
    }
  }

  /**
   * Every beat, one query for the sign-ins of all sockets here: a revoked, expired or deactivated
   * sign-in loses its sockets (4401) within one heartbeat interval even if its revocation message
   * never arrived (published while a socket was opening, or lost with a Redis connection).
   */
  async #recheckSignIns() {
    const asked = new Set<string>();
    for (const conn of this.hub.all()) asked.add(conn.authSessionId);
    if (asked.size === 0) return;
    let live: Map<string, SignInState>;
    try {
      live = await this.signIns([...asked]);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'realtime: could not re-check sign-ins');
      return;
    }
    // Only sockets whose sign-in was asked about: one opened during the query checks its own.
    for (const conn of [...this.hub.all()]) {
      if (asked.has(conn.authSessionId) && !live.has(conn.authSessionId))
        conn.ws.close(CLOSE.unauthenticated, 'signed out');
    }
  }

  /** SIGTERM: accept no more sockets and close the open ones with 4000 so they resume elsewhere. */
  drain() {
    this.#draining = true;
    clearInterval(this.#heartbeat);
    for (const conn of this.hub.all()) conn.ws.close(CLOSE.draining, 'server draining');
  }
}

/** `last_seq` of a resume, when it is one. */
function lastSeqOf(value: string | undefined): number | undefined {
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** An upgrade that came through the app: its end of opening is told with its Context. */
class ContextRelease {
  constructor(
    readonly sockets: SocketLayer,
    readonly c: Context,
  ) {}
  opened() {
    this.sockets.opened?.(this.c);
  }
}

/** What every socket's events need of their gateway (made once per gateway by `register`). */
interface SocketSide {
  sockets: SocketLayer;
  hub: Hub;
  logger: Logger;
  maxSocketsPerUser: number;
  draining(): boolean;
  open(conn: Connection, requestedId: string | undefined, lastSeq: number | undefined): Promise<void>;
  closed(conn: Connection): Promise<void>;
}

/** What a socket keeps of its upgrade request: the signed-in user's ids and the resume parameters. */
interface Upgrade {
  userId: number | undefined;
  authSessionId: string | undefined;
  badOrigin: boolean;
  sessionId: string | undefined;
  lastSeq: number | undefined;
}

/**
 * One socket's events. An object with its methods on the prototype, not closures: it lives as
 * long as its socket (thousands of them), and keeps only what the socket needs of its upgrade
 * request, never the request's context (its Request, headers, the user's row), which it drops
 * once the socket is open (docs/benchmarks.md, "Memory per session").
 */
class SocketEvents implements WSEvents {
  conn: Connection | undefined;
  #request: { opened(): void } | undefined;

  constructor(
    readonly side: SocketSide,
    /** Its upgrade request, told once when the open ends (admission control), then dropped. */
    request: { opened(): void },
    readonly upgrade: Upgrade,
  ) {
    this.#request = request;
  }

  /** The upgrade finished opening (admission control counts it no more); runs once. */
  #opened() {
    const request = this.#request;
    this.#request = undefined;
    request?.opened();
  }

  #refuse(raw: ClientSocket, code: number, reason: string) {
    raw.close(code, reason);
    this.#opened();
  }

  onOpen(_event: Event, ws: WSContext) {
    const { side, upgrade } = this;
    const raw = side.sockets.socketOf(ws);
    if (side.draining()) return this.#refuse(raw, CLOSE.draining, 'server draining');
    if (upgrade.badOrigin) return this.#refuse(raw, CLOSE.forbidden, 'origin not allowed');
    if (upgrade.userId === undefined || upgrade.authSessionId === undefined)
      return this.#refuse(raw, CLOSE.unauthenticated, 'sign in first');
    // Counted here, synchronously: sockets still opening count too (hub.add below is first).
    if (side.hub.socketsOf(upgrade.userId) >= side.maxSocketsPerUser)
      return this.#refuse(raw, CLOSE.tooManySockets, 'too many sockets for this user');
    const conn: Connection = {
      ws: raw,
      userId: upgrade.userId,
      sessionId: '',
      authSessionId: upgrade.authSessionId,
      seq: 0,
      ready: false,
      pending: [],
      lastSeen: Date.now(),
    };
    this.conn = conn;
    side
      .open(conn, upgrade.sessionId, upgrade.lastSeq)
      .catch((error) => {
        side.logger.warn({ err: (error as Error).message }, 'realtime: could not open a session');
        raw.close(CLOSE.draining, 'try again');
      })
      .finally(() => this.#opened());
  }

  onMessage(event: MessageEvent, ws: WSContext) {
    // Node's `ws` enforces this itself (maxPayload); Deno's upgrade has no such option.
    if (incomingBytes(event.data) > MAX_INCOMING_BYTES)
      return this.side.sockets.socketOf(ws).close(1009, 'frame too large');
    if (this.conn) this.conn.lastSeen = Date.now();
  }

  onClose() {
    if (this.conn) void this.side.closed(this.conn);
  }
}
