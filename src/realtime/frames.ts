/**
 * The realtime protocol (docs/contract.md §6) is one plain ES module, public/js/protocol.js, shared
 * as is with the browser, the test client and the k6 load scripts; its types are in protocol.d.ts
 * beside it. From `dist/realtime/` the same relative path reaches it (the image ships public/).
 */
export {
  CLOSE,
  type CloseCode,
  type ControlFrame,
  type DeltaFrame,
  decodeFrame,
  encodeFrame,
  type Frame,
  type FrameHead,
  frameHead,
  type HelloFrame,
  type ServerFrame,
  type SnapshotFrame,
} from '../../public/js/protocol.js';

/**
 * The version a user's new document starts at. Not 1: a document can be lost (Redis restarted
 * or evicted it) while sessions that saw its versions survive, and a new sequence starting low
 * would let their `last_seq` match versions of a different history. Microseconds since the
 * epoch start above every earlier version (unless one history grew by more than 1,000 versions
 * per millisecond of its life) and stay below 2^53 until the year 2255.
 */
export const firstSeq = () => Date.now() * 1000;
