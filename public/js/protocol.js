// @ts-check
/**
 * The realtime protocol of `GET /ws` (docs/contract.md §6, docs/realtime.md "Protocol module"):
 * frames, their encoding, close codes and what a client does on each, and the merge patch.
 * One plain ES module, no dependencies beyond merge-patch.js, nothing browser- or Node-specific:
 * the server (src/realtime), the browser (live-document.js, through the asset pipeline), the
 * test client and the k6 load library all import this file. Its types are declared once, in
 * protocol.d.ts; `tsc -p public` checks every export here against them.
 */

export { apply, diff } from './merge-patch.js';

/** @import { Frame, FrameType, CloseAction, CloseCode } from './protocol.js' */

/** @type {typeof import('./protocol.js').FRAME_TYPES} */
export const FRAME_TYPES = Object.freeze(/** @type {const} */ (['hello', 'snapshot', 'delta', 'control']));

/** @type {typeof import('./protocol.js').CLOSE} */
export const CLOSE = Object.freeze({
  normal: 1000,
  tooLarge: 1009,
  draining: 4000,
  slowConsumer: 4008,
  unauthenticated: 4401,
  forbidden: 4403,
  tooManySockets: 4429,
  resync: 4999,
});

/** @type {typeof import('./protocol.js').CLOSE_POLICY} */
export const CLOSE_POLICY = Object.freeze({
  [CLOSE.normal]: 'back-off',
  [CLOSE.tooLarge]: 'back-off',
  // The instance is going away: resume elsewhere at once (the jitter spreads the herd).
  [CLOSE.draining]: 'resume-now',
  // Too slow a reader: the resume replays what it missed, or sends a snapshot.
  [CLOSE.slowConsumer]: 'resume-now',
  // Signed out, revoked, expired or deactivated: reconnecting cannot help.
  [CLOSE.unauthenticated]: 'signed-out',
  // A foreign Origin: the same answer every time.
  [CLOSE.forbidden]: 'refused',
  // Too many sockets for this user: one may close soon; do not hammer meanwhile.
  [CLOSE.tooManySockets]: 'back-off',
  // The client's own close for a seq gap or a forced reconnect.
  [CLOSE.resync]: 'resume-now',
});

/** @type {typeof import('./protocol.js').closeAction} */
export function closeAction(code) {
  return Object.hasOwn(CLOSE_POLICY, code) ? CLOSE_POLICY[/** @type {CloseCode} */ (code)] : 'back-off';
}

/** @type {typeof import('./protocol.js').DEFAULT_BACKOFF} */
export const DEFAULT_BACKOFF = Object.freeze({ minMs: 500, maxMs: 30000, promptMs: 250 });

/** @type {typeof import('./protocol.js').reconnectDelayMs} */
export function reconnectDelayMs(code, attempt, backoff = {}, random = Math.random) {
  const { minMs, maxMs, promptMs } = { ...DEFAULT_BACKOFF, ...backoff };
  /** @type {CloseAction} */
  const action = closeAction(code);
  switch (action) {
    case 'signed-out':
    case 'refused':
      return undefined;
    case 'resume-now':
      return random() * promptMs;
    case 'back-off':
      return random() * Math.min(maxMs, minMs * 2 ** attempt);
    default:
      return unreachable(action);
  }
}

/** @type {typeof import('./protocol.js').refusedDelayMs} */
export function refusedDelayMs(retryAfter, attempt, backoff = {}, random = Math.random) {
  const { minMs, maxMs } = { ...DEFAULT_BACKOFF, ...backoff };
  const seconds = Number(retryAfter);
  const floor = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : 1000;
  return floor + random() * Math.min(maxMs, minMs * 2 ** attempt);
}

/** @param {never} value @returns {never} */
function unreachable(value) {
  throw new Error(`unreachable: ${JSON.stringify(value)}`);
}

/** @type {typeof import('./protocol.js').encodeFrame} */
export function encodeFrame(frame) {
  // Objects built field by field: the text's field order is the protocol's, not the caller's.
  switch (frame.type) {
    case 'hello':
      return JSON.stringify({
        type: frame.type,
        session_id: frame.session_id,
        resumed: frame.resumed,
        heartbeat_ms: frame.heartbeat_ms,
      });
    case 'snapshot':
      return JSON.stringify({ type: frame.type, seq: frame.seq, data: frame.data });
    case 'delta':
      return JSON.stringify(
        frame.at === undefined
          ? { type: frame.type, seq: frame.seq, patch: frame.patch }
          : { type: frame.type, seq: frame.seq, at: frame.at, patch: frame.patch },
      );
    case 'control':
      if (frame.action === 'close')
        return JSON.stringify({ type: frame.type, action: frame.action, code: frame.code });
      return JSON.stringify(
        frame.auth_session === undefined
          ? { type: frame.type, action: frame.action }
          : { type: frame.type, action: frame.action, auth_session: frame.auth_session },
      );
    default:
      return unreachable(frame);
  }
}

const isSeq = (/** @type {unknown} */ v) => Number.isSafeInteger(v) && /** @type {number} */ (v) >= 0;
const isObject = (/** @type {unknown} */ v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const CLOSE_CODES = new Set(Object.values(CLOSE));

/**
 * @param {Record<string, unknown>} f
 * @returns {boolean}
 */
function wellFormed(f) {
  switch (/** @type {FrameType} */ (f.type)) {
    case 'hello':
      return (
        typeof f.session_id === 'string' &&
        typeof f.resumed === 'boolean' &&
        typeof f.heartbeat_ms === 'number'
      );
    case 'snapshot':
      return isSeq(f.seq) && f.data !== undefined;
    case 'delta':
      return isSeq(f.seq) && f.patch !== undefined && (f.at === undefined || typeof f.at === 'number');
    case 'control':
      if (f.action === 'close') return CLOSE_CODES.has(/** @type {CloseCode} */ (f.code));
      return f.action === 'revoke' && (f.auth_session === undefined || typeof f.auth_session === 'string');
    default:
      return false;
  }
}

/** @type {typeof import('./protocol.js').decodeFrame} */
export function decodeFrame(text) {
  /** @type {unknown} */
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: 'not_json' };
  }
  if (!isObject(value)) return { error: 'malformed' };
  const f = /** @type {Record<string, unknown>} */ (value);
  if (!FRAME_TYPES.includes(/** @type {FrameType} */ (f.type))) return { error: 'unknown_type' };
  if (!wellFormed(f)) return { error: 'malformed' };
  // Checked field by field above; the document (`data`) is the caller's to know.
  return { frame: /** @type {Frame<any>} */ (f) };
}

/** The prefix `encodeFrame` writes: `{"type":"…"` then, when the frame has them, `seq` and `at`. */
const HEAD = /^\{"type":"(\w+)"(?:,"seq":(\d+))?(?:,"at":(\d+))?/;

/** @type {typeof import('./protocol.js').frameHead} */
export function frameHead(text) {
  const match = HEAD.exec(text);
  const type = /** @type {FrameType | undefined} */ (match?.[1]);
  if (match && type && FRAME_TYPES.includes(type) && (match[2] !== undefined || !hasSeq(type))) {
    return { type, seq: Number(match[2] ?? 0), at: match[3] === undefined ? undefined : Number(match[3]) };
  }
  // Not written by encodeFrame (fields in another order): read the whole frame.
  const { frame } = decodeFrame(text);
  if (!frame) return undefined;
  return frame.type === 'snapshot' || frame.type === 'delta'
    ? { type: frame.type, seq: frame.seq, at: frame.type === 'delta' ? frame.at : undefined }
    : { type: frame.type, seq: 0, at: undefined };
}

const hasSeq = (/** @type {FrameType} */ type) => type === 'snapshot' || type === 'delta';
