/**
 * The realtime protocol of `GET /ws` (docs/contract.md §6), declared once. The implementation is
 * the plain ES module protocol.js beside this file, checked against these declarations by
 * `tsc -p public` (each export of protocol.js is typed `typeof import('./protocol.js').name`).
 * The server (src/realtime), the browser client (live-document.js), the test client
 * (test/support/live-client.ts) and the k6 library (load/lib/realtime.ts) all import it.
 */
import type { Json } from './merge-patch.js';

export { apply, diff } from './merge-patch.js';
export type { Json };

/** First frame on every socket: the session to resume with, and whether this socket resumed it. */
export interface HelloFrame {
  type: 'hello';
  session_id: string;
  resumed: boolean;
  heartbeat_ms: number;
}

/** The whole document at version `seq`: replaces whatever the client held. */
export interface SnapshotFrame<Doc = Json> {
  type: 'snapshot';
  seq: number;
  data: Doc;
}

/** Version `seq` as an RFC 7396 merge patch of version `seq - 1`. */
export interface DeltaFrame {
  type: 'delta';
  seq: number;
  /** When the newest change behind this delta was made (ms since the epoch), when known. */
  at?: number;
  patch: Json;
}

/** What a client receives. */
export type ServerFrame<Doc = Json> = HelloFrame | SnapshotFrame<Doc> | DeltaFrame;

/** Instance-to-instance messages on a user's channel; never forwarded to a client. */
export type ControlFrame =
  | { type: 'control'; action: 'revoke'; auth_session?: string }
  | { type: 'control'; action: 'close'; code: CloseCode };

/** Everything that travels on a user's channel (and, for the server frames, on the socket). */
export type Frame<Doc = Json> = ServerFrame<Doc> | ControlFrame;

export type FrameType = Frame['type'];

/** Every frame type, in the order of docs/contract.md §6 (control last: server-internal). */
export const FRAME_TYPES: readonly FrameType[];

/**
 * The frame's text: fields always in the order of docs/contract.md §6 (`type` first, then `seq`,
 * then `at`), whatever order the object was built in, which is what `frameHead` relies on.
 */
export function encodeFrame(frame: Frame<unknown>): string;

export type DecodeError = 'not_json' | 'unknown_type' | 'malformed';
export type Decoded<Doc = Json> =
  | { frame: Frame<Doc>; error?: undefined }
  | { frame?: undefined; error: DecodeError };

/** Parses and checks one frame: its type is known and its fields have their types. */
export function decodeFrame<Doc = Json>(text: string): Decoded<Doc>;

export interface FrameHead {
  type: FrameType;
  /** 0 for frames without one (hello, control). */
  seq: number;
  /** A delta's `at`, when it has one. */
  at: number | undefined;
}

/**
 * The type, seq and `at` of a frame text without parsing its body (a snapshot can be large and is
 * relayed as is): read off the prefix `encodeFrame` writes, else by decoding the whole frame.
 * Undefined for a text that is no frame.
 */
export function frameHead(text: string): FrameHead | undefined;

/** Close codes of docs/contract.md §6. `resync` is the one a client closes with itself. */
export const CLOSE: {
  readonly normal: 1000;
  readonly tooLarge: 1009;
  readonly draining: 4000;
  readonly slowConsumer: 4008;
  readonly unauthenticated: 4401;
  readonly forbidden: 4403;
  readonly tooManySockets: 4429;
  /** Client side: a seq gap or a forced reconnect; resumes at once with its session. */
  readonly resync: 4999;
};

export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/**
 * What a client does when its socket closes with a code:
 * - `signed-out`: forget the session and stop; only signing in again helps (4401).
 * - `refused`: stop; retrying gets the same answer (4403).
 * - `resume-now`: resume the session at once, after a short jitter (4000, 4008, 4999).
 * - `back-off`: resume after an exponential backoff with full jitter (anything else).
 */
export type CloseAction = 'signed-out' | 'refused' | 'resume-now' | 'back-off';

/** The policy table: the action for each close code the protocol names; others back off. */
export const CLOSE_POLICY: Readonly<Record<CloseCode, CloseAction>>;

export function closeAction(code: number): CloseAction;

export interface Backoff {
  /** Ceiling of the first backoff (doubles with each attempt). Default 500. */
  minMs?: number;
  /** Largest ceiling. Default 30,000. */
  maxMs?: number;
  /** Ceiling of a `resume-now` delay. Default 250. */
  promptMs?: number;
}

export const DEFAULT_BACKOFF: Readonly<Required<Backoff>>;

/**
 * How long to wait before reconnecting after the `attempt`-th consecutive close (0-based; reset
 * once live): full jitter under `promptMs` for `resume-now`, else under
 * `min(maxMs, minMs · 2^attempt)`. Undefined when the client must not reconnect.
 */
export function reconnectDelayMs(
  code: number,
  attempt: number,
  backoff?: Backoff,
  random?: () => number,
): number | undefined;

/**
 * How long to wait before trying again after the server refused the upgrade with HTTP 503 (too
 * many sockets opening on that instance): at least its `Retry-After` (seconds; 1 when absent or
 * unreadable), plus full jitter under `min(maxMs, minMs · 2^attempt)` so the refused herd
 * spreads out. Only clients that can read the HTTP answer use it (Node, k6); a browser sees a
 * failed socket (close 1006), which `reconnectDelayMs` already backs off from.
 */
export function refusedDelayMs(
  retryAfter: string | number | undefined,
  attempt: number,
  backoff?: Backoff,
  random?: () => number,
): number;
