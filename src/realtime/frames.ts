import type { Dashboard } from '../dashboard/metrics.js';
import type { Json } from './merge-patch.js';

/**
 * The version a user's new document starts at. Not 1: a document can be lost (Redis restarted
 * or evicted it) while sessions that saw its versions survive, and a new sequence starting low
 * would let their `last_seq` match versions of a different history. Microseconds since the
 * epoch start above every earlier version (unless one history grew by more than 1,000 versions
 * per millisecond of its life) and stay below 2^53 until the year 2255.
 */
export const firstSeq = () => Date.now() * 1000;

/** Server-to-client frames (docs/contract.md §6), serialised once per user. */
export const helloFrame = (sessionId: string, resumed: boolean, heartbeatMs: number) =>
  JSON.stringify({ type: 'hello', session_id: sessionId, resumed, heartbeat_ms: heartbeatMs });

export const snapshotFrame = (seq: number, doc: Dashboard) =>
  JSON.stringify({ type: 'snapshot', seq, data: doc });

/** `at`: when the newest change behind this delta was made (ms since the epoch), when known. */
export const deltaFrame = (seq: number, patch: Json, at?: number) =>
  JSON.stringify(at === undefined ? { type: 'delta', seq, patch } : { type: 'delta', seq, at, patch });

export interface FrameHead {
  type: string;
  seq: number;
  /** A delta's `at`, when it has one. */
  at: number | undefined;
}

/** The type, seq and `at` of a frame without parsing its body again. */
export function frameHead(text: string): FrameHead | undefined {
  const match = /^\{"type":"(\w+)"(?:,"seq":(\d+))?(?:,"at":(\d+))?/.exec(text);
  return match
    ? {
        type: match[1]!,
        seq: Number(match[2] ?? 0),
        at: match[3] === undefined ? undefined : Number(match[3]),
      }
    : undefined;
}
