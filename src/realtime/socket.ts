import type { MiddlewareHandler } from 'hono';
import type { UpgradeWebSocket, WSContext, WSEvents } from 'hono/ws';
import type { WebSocket as NodeWebSocket } from 'ws';

/**
 * One client's socket as the hub and the gateway use it, whatever runtime serves it
 * (docs/decisions/0020-deno-first-class-runtime.md). Nothing here is `ws`'s or Deno's own object.
 */
export interface ClientSocket {
  readonly isOpen: boolean;
  /** Bytes queued to send and not yet written: what a slow reader makes grow. */
  readonly bufferedAmount: number;
  send(text: string): void;
  close(code: number, reason: string): void;
  /** Ends the connection without waiting for the peer (a dead peer never answers a close). */
  terminate(): void;
  readonly liveness: Liveness;
}

/**
 * How a silent peer is found out. `ping`: the gateway pings every heartbeat and ends a socket
 * whose pongs stop for two intervals (Node's `ws`). `runtime`: the runtime pings on its own and
 * closes a socket that stays silent for the time it was given at the upgrade (Deno's
 * `idleTimeout`): its server sockets have no `ping()` and report no pong.
 */
export type Liveness =
  | {
      kind: 'ping';
      ping(): void;
      /** When the last pong arrived (ms since the epoch; 0 before the first). */
      readonly lastPongAt: number;
    }
  | { kind: 'runtime' };

/** What the gateway asks of every upgrade, whichever runtime carries it out. */
export interface UpgradeLimits {
  /** A peer silent this long (no frame, no pong) is gone. */
  silenceMs: number;
  /** Largest frame a client may send; a larger one closes its socket with 1009. */
  maxIncomingBytes: number;
}

/** One runtime's WebSocket support, as the gateway needs it. */
export interface SocketLayer {
  upgrade(
    createEvents: (c: Parameters<MiddlewareHandler>[0]) => WSEvents,
    limits: UpgradeLimits,
  ): MiddlewareHandler;
  socketOf(ws: WSContext): ClientSocket;
  /**
   * Admission control, where the runtime can apply it before any routing: while `maxOpening`
   * upgrades are opening on this instance (from the upgrade request until `opened`), one more is
   * answered 503 with Retry-After and never upgraded. Runtimes without it admit every upgrade.
   */
  limitOpening?(limit: OpeningLimit): void;
  /** The socket of this upgrade request finished opening (its snapshot was sent, or it failed). */
  opened?(c: Parameters<MiddlewareHandler>[0]): void;
  /**
   * Upgrades of `path` taken without the app: no middleware, no Request or Context built; `events`
   * decides from the request line and headers alone, synchronously, right after admission
   * (docs/decisions/0031-socket-opens-without-the-middleware.md). Runtimes without it send every
   * upgrade through the app, where `upgrade`'s middleware takes it.
   */
  direct?(path: string, events: DirectEvents, limits: UpgradeLimits): void;
}

/** The events of a socket taken by `SocketLayer.direct`, or an HTTP refusal instead of the upgrade. */
export type DirectEvents = (head: UpgradeHead) => Promise<WSEvents | UpgradeRefusal>;

/** Not upgraded: this status (its line only), with a Retry-After when given. */
export interface UpgradeRefusal {
  refuse: { status: number; retryAfterSeconds?: number };
}

/** An upgrade request as the socket layer hands it over before any routing. */
export interface UpgradeHead {
  /** The request's query string, without the `?` ('' when there is none). */
  readonly query: string;
  /** A request header (the first value of a repeated one), by its lower-case name. */
  header(name: string): string | undefined;
  /** This upgrade finished opening: admission control counts it no more. Runs once. */
  opened(): void;
}

/**
 * The body of the 503 an upgrade past `OpeningLimit.maxOpening` gets, on every runtime: the
 * portal's JSON error shape (docs/decisions/0025-open-storms.md).
 */
export const OPENING_REFUSAL_BODY = JSON.stringify({
  error: { code: 'unavailable', message: 'too many sockets opening on this instance; retry later' },
});

export interface OpeningLimit {
  maxOpening: number;
  /**
   * Upgrades past `maxOpening` that wait (unanswered) for an open to end before any is refused;
   * one waiting longer than `maxWaitMs` is refused then (Node and Deno both keep the line).
   */
  maxWaiting?: number;
  maxWaitMs?: number;
  /** Seconds a refused client waits before trying again (the Retry-After header). */
  retryAfterSeconds: number;
  onRefused?: () => void;
}

/** `hono/ws`'s helper type, with whatever socket object a runtime puts in `raw`. */
// biome-ignore lint/suspicious/noExplicitAny: each runtime's helper has its own raw socket and options types
export type AnyUpgradeWebSocket = UpgradeWebSocket<any, any>;

/** When a `ws` socket's last pong arrived, kept on the socket by one listener shared by all. */
const LAST_PONG = Symbol('lastPong');
type PongedSocket = NodeWebSocket & { [LAST_PONG]?: number };
function notePong(this: PongedSocket) {
  this[LAST_PONG] = Date.now();
}

/**
 * Node: the `ws` package's socket. A class, not an object of closures: thousands of sockets
 * share its methods (docs/benchmarks.md, "Memory per session").
 */
class NodeClientSocket implements ClientSocket {
  constructor(readonly raw: PongedSocket) {
    if (raw[LAST_PONG] === undefined) {
      raw[LAST_PONG] = 0;
      raw.on('pong', notePong);
    }
  }
  get isOpen() {
    return this.raw.readyState === this.raw.OPEN;
  }
  get bufferedAmount() {
    return this.raw.bufferedAmount;
  }
  send(text: string) {
    this.raw.send(text);
  }
  close(code: number, reason: string) {
    this.raw.close(code, reason);
  }
  terminate() {
    this.raw.terminate();
  }
  /** Its own liveness: `ws` pings and reports pongs. */
  get liveness(): this {
    return this;
  }
  get kind() {
    return 'ping' as const;
  }
  ping() {
    this.raw.ping();
  }
  get lastPongAt() {
    return this.raw[LAST_PONG] ?? 0;
  }
}

export function nodeSocket(raw: NodeWebSocket): ClientSocket {
  return new NodeClientSocket(raw);
}

/** The standard WebSocket object, as much of it as a server socket needs (Deno's `upgradeWebSocket`). */
export interface StandardWebSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Deno: a standard WebSocket from `Deno.upgradeWebSocket`, kept alive by its `idleTimeout`. */
export function standardSocket(raw: StandardWebSocket): ClientSocket {
  const OPEN = 1;
  return {
    get isOpen() {
      return raw.readyState === OPEN;
    },
    get bufferedAmount() {
      return raw.bufferedAmount;
    },
    send: (text) => raw.send(text),
    close: (code, reason) => raw.close(code, reason),
    // No abortive close in the standard API: Deno sends the close frame and releases the
    // connection without waiting for a reply, which is what a dead peer needs.
    terminate: () => raw.close(1001, 'no response'),
    liveness: { kind: 'runtime' },
  };
}

/** Size in bytes of a frame a client sent (text or binary). */
export function incomingBytes(data: unknown): number {
  // Clients send next to nothing (keep-alive at most): encoding the rare text frame is cheap.
  if (typeof data === 'string') return new TextEncoder().encode(data).byteLength;
  if (data instanceof ArrayBuffer) return data.byteLength;
  if (ArrayBuffer.isView(data)) return data.byteLength;
  if (data instanceof Blob) return data.size;
  return 0;
}
