import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
// @ts-expect-error: a plain ES module for browsers, type-checked by `tsc -p public`
import { LiveDocument } from '../../public/js/live-document.js';
import {
  CLOSE,
  CLOSE_POLICY,
  type CloseAction,
  type CloseCode,
  closeAction,
  decodeFrame,
  encodeFrame,
  FRAME_TYPES,
  type Frame,
  type FrameType,
  frameHead,
  type Json,
  reconnectDelayMs,
  refusedDelayMs,
} from '../../public/js/protocol.js';
import { buildAssets } from '../../src/http/assets.ts';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

/** One frame of every type: the mapped type does not compile while a frame type lacks one. */
const samples: { [T in FrameType]: Extract<Frame, { type: T }>[] } = {
  hello: [
    { type: 'hello', session_id: '0b7e0d4e-9b1c-4c55-9a57-6b2f0a1c2d3e', resumed: true, heartbeat_ms: 25000 },
  ],
  snapshot: [{ type: 'snapshot', seq: 1764776400000000, data: { role: 'user', my_tasks: { todo: 1 } } }],
  delta: [
    { type: 'delta', seq: 42, patch: { my_tasks: { todo: 2 }, gone: null } },
    { type: 'delta', seq: 43, at: 1764776400123, patch: { my_overdue: 1 } },
  ],
  control: [
    { type: 'control', action: 'revoke' },
    { type: 'control', action: 'revoke', auth_session: 'abc' },
    { type: 'control', action: 'close', code: 4401 },
  ],
};
const everyFrame = Object.values(samples).flat() as Frame[];

describe('protocol module: frames', () => {
  it('writes the same bytes as before, fields in the order of docs/contract.md §6 whatever the object order', () => {
    expect(encodeFrame({ heartbeat_ms: 25000, resumed: false, session_id: 's', type: 'hello' })).toBe(
      '{"type":"hello","session_id":"s","resumed":false,"heartbeat_ms":25000}',
    );
    expect(encodeFrame({ data: { a: 1 }, seq: 7, type: 'snapshot' })).toBe(
      '{"type":"snapshot","seq":7,"data":{"a":1}}',
    );
    expect(encodeFrame({ patch: { a: null }, at: 9, seq: 8, type: 'delta' })).toBe(
      '{"type":"delta","seq":8,"at":9,"patch":{"a":null}}',
    );
    expect(encodeFrame({ type: 'delta', seq: 8, at: undefined, patch: 1 })).toBe(
      '{"type":"delta","seq":8,"patch":1}',
    );
    expect(encodeFrame({ code: 4401, action: 'close', type: 'control' })).toBe(
      '{"type":"control","action":"close","code":4401}',
    );
    expect(encodeFrame({ type: 'control', action: 'revoke' })).toBe('{"type":"control","action":"revoke"}');
  });

  it('decodes what it encodes, and reads the head of every frame without a full parse', () => {
    for (const frame of everyFrame) {
      const text = encodeFrame(frame);
      expect(decodeFrame(text)).toEqual({ frame });
      const seq = frame.type === 'snapshot' || frame.type === 'delta' ? frame.seq : 0;
      expect(frameHead(text)).toEqual({
        type: frame.type,
        seq,
        at: frame.type === 'delta' ? frame.at : undefined,
      });
    }
  });

  it('round-trips any delta and snapshot (property)', () => {
    const json: fc.Arbitrary<Json> = fc.jsonValue() as fc.Arbitrary<Json>;
    const frame = fc.oneof(
      fc.record({ type: fc.constant('snapshot' as const), seq: fc.maxSafeNat(), data: json }),
      fc.record(
        { type: fc.constant('delta' as const), seq: fc.maxSafeNat(), at: fc.maxSafeNat(), patch: json },
        { requiredKeys: ['type', 'seq', 'patch'] },
      ),
    );
    fc.assert(
      fc.property(frame, (f) => {
        const text = encodeFrame(f);
        const back = decodeFrame(text).frame;
        expect(JSON.stringify(back)).toBe(text);
        expect(frameHead(text)).toEqual({ type: f.type, seq: f.seq, at: 'at' in f ? f.at : undefined });
      }),
      { numRuns: 300 },
    );
  });

  it('reads the head of a frame whose fields come in another order (no key-order regex trap)', () => {
    expect(frameHead('{"seq":5,"type":"delta","patch":{}}')).toEqual({
      type: 'delta',
      seq: 5,
      at: undefined,
    });
    expect(frameHead('{"type":"delta","patch":{"seq":1},"seq":6,"at":3}')).toEqual({
      type: 'delta',
      seq: 6,
      at: 3,
    });
    expect(frameHead('{"action":"revoke","type":"control"}')).toEqual({
      type: 'control',
      seq: 0,
      at: undefined,
    });
    expect(frameHead('{"type":"gossip","seq":1}')).toBeUndefined();
    expect(frameHead('not json')).toBeUndefined();
  });

  it('refuses what is not a frame, saying why', () => {
    expect(decodeFrame('{"type":"delta"')).toEqual({ error: 'not_json' });
    expect(decodeFrame('[1]')).toEqual({ error: 'malformed' });
    expect(decodeFrame('{"type":"gossip"}')).toEqual({ error: 'unknown_type' });
    expect(decodeFrame('{"type":"toString"}')).toEqual({ error: 'unknown_type' });
    expect(decodeFrame('{"type":"delta","seq":"1","patch":{}}')).toEqual({ error: 'malformed' });
    expect(decodeFrame('{"type":"delta","seq":1}')).toEqual({ error: 'malformed' });
    expect(decodeFrame('{"type":"snapshot","seq":-1,"data":{}}')).toEqual({ error: 'malformed' });
    expect(decodeFrame('{"type":"hello","session_id":"s","resumed":"yes","heartbeat_ms":1}')).toEqual({
      error: 'malformed',
    });
    expect(decodeFrame('{"type":"control","action":"close","code":1234}')).toEqual({ error: 'malformed' });
    expect(decodeFrame('{"type":"control","action":"explode"}')).toEqual({ error: 'malformed' });
  });

  it('is one discriminated union: every frame type has a sample, an encoding and a decoding', () => {
    expectTypeOf<FrameType>().toEqualTypeOf<'hello' | 'snapshot' | 'delta' | 'control'>();
    expectTypeOf<(typeof FRAME_TYPES)[number]>().toEqualTypeOf<FrameType>();
    expect([...FRAME_TYPES].sort()).toEqual(Object.keys(samples).sort());
    // An object outside the union (only a cast gets one past the compiler) is refused, not mis-encoded.
    expect(() => encodeFrame({ type: 'gossip' } as unknown as Frame)).toThrow(/unreachable/);
  });
});

/** The table, written out: what a client does when its socket closes with each code. */
const EXPECTED: Record<CloseCode, CloseAction> = {
  1000: 'back-off',
  1009: 'back-off',
  4000: 'resume-now',
  4008: 'resume-now',
  4401: 'signed-out',
  4403: 'refused',
  4429: 'back-off',
  4999: 'resume-now',
};

describe('protocol module: close codes', () => {
  it('names an action for every close code, and backs off on any other', () => {
    expect(CLOSE_POLICY).toEqual(EXPECTED);
    expect(Object.keys(CLOSE_POLICY).map(Number).sort()).toEqual(Object.values(CLOSE).sort());
    for (const code of [1001, 1006, 1011, 4001, 4500]) expect(closeAction(code)).toBe('back-off');
  });

  it('waits by the action: at once for resume-now, exponential full jitter for back-off, never for a stop', () => {
    const top = () => 0.999999;
    expect(reconnectDelayMs(CLOSE.draining, 7, {}, top)).toBeCloseTo(250, 1);
    expect(reconnectDelayMs(CLOSE.slowConsumer, 0, {}, top)).toBeCloseTo(250, 1);
    expect(reconnectDelayMs(CLOSE.tooManySockets, 0, {}, top)).toBeCloseTo(500, 1);
    expect(reconnectDelayMs(1006, 3, {}, top)).toBeCloseTo(4000, 1);
    expect(reconnectDelayMs(1006, 30, {}, top)).toBeCloseTo(30000, 1);
    expect(reconnectDelayMs(1006, 2, { minMs: 50, maxMs: 100 }, top)).toBeCloseTo(100, 1);
    expect(reconnectDelayMs(1006, 2, {}, () => 0)).toBe(0);
    expect(reconnectDelayMs(CLOSE.unauthenticated, 0)).toBeUndefined();
    expect(reconnectDelayMs(CLOSE.forbidden, 0)).toBeUndefined();
  });

  it('after a 503 refusal, waits at least Retry-After, plus a jitter that grows with the attempts', () => {
    const top = () => 0.999999;
    expect(refusedDelayMs('2', 0, {}, () => 0)).toBe(2000);
    expect(refusedDelayMs('2', 0, {}, top)).toBeCloseTo(2500, 1);
    expect(refusedDelayMs(1, 3, {}, top)).toBeCloseTo(5000, 1);
    expect(refusedDelayMs(undefined, 0, {}, () => 0)).toBe(1000);
    expect(refusedDelayMs('soon', 0, {}, () => 0)).toBe(1000);
    expect(refusedDelayMs('0', 30, {}, top)).toBeCloseTo(30000, 1);
  });
});

/** A stand-in WebSocket the test closes with any code, recording every socket the client opens. */
class FakeSocket {
  static opened: FakeSocket[] = [];
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number }) => void) | null = null;
  closedWith: number | undefined;
  constructor(readonly url: URL) {
    FakeSocket.opened.push(this);
  }
  close(code = 1005) {
    this.closedWith = code;
    queueMicrotask(() => this.onclose?.({ code }));
  }
  receive(frame: Frame | string) {
    this.onmessage?.({ data: typeof frame === 'string' ? frame : encodeFrame(frame) });
  }
}

describe('the browser client (live-document.js) follows the close-code table', () => {
  const realWebSocket = globalThis.WebSocket;
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    globalThis.WebSocket = realWebSocket;
  });

  const start = () => {
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.999999);
    FakeSocket.opened = [];
    globalThis.WebSocket = FakeSocket as unknown as typeof WebSocket;
    const storage = new Map<string, string>();
    const live = new LiveDocument({
      url: 'http://portal.test/ws',
      storage: {
        getItem: (k: string) => storage.get(k) ?? null,
        setItem: (k: string, v: string) => void storage.set(k, v),
        removeItem: (k: string) => void storage.delete(k),
      },
    }).start();
    const socket = FakeSocket.opened[0]!;
    socket.receive({ type: 'hello', session_id: 'sess-1', resumed: false, heartbeat_ms: 25000 });
    socket.receive({ type: 'snapshot', seq: 10, data: { my_overdue: 0 } });
    return { live, socket, storage };
  };

  it.each(Object.entries(EXPECTED))('on %s it does "%s"', async (codeText, action) => {
    const code = Number(codeText);
    const { live, socket, storage } = start();
    expect(live.state).toBe('live');
    socket.onclose!({ code });
    const delay = reconnectDelayMs(code, 0);
    if (action === 'signed-out') {
      expect(live.state).toBe('signed-out');
      expect(storage.has('portal.realtime.session')).toBe(false);
    } else if (action === 'refused') {
      expect(live.state).toBe('offline');
    } else {
      expect(live.state).toBe('reconnecting');
      expect(delay).toBeGreaterThan(0);
      await vi.advanceTimersByTimeAsync(delay! - 1);
      expect(FakeSocket.opened).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeSocket.opened).toHaveLength(2);
      // It resumes its session from the version it holds.
      expect(FakeSocket.opened[1]!.url.search).toBe('?session_id=sess-1&last_seq=10');
    }
    await vi.advanceTimersByTimeAsync(120_000);
    if (delay === undefined) expect(FakeSocket.opened).toHaveLength(1);
    live.stop();
  });

  it('closes with the resync code on a seq gap, and ignores control frames and non-frames', async () => {
    const { live, socket } = start();
    socket.receive('{"type":"control","action":"close","code":4401}');
    socket.receive('not json');
    socket.receive('{"type":"delta","seq":"11","patch":{"my_overdue":5}}');
    expect(live.doc).toEqual({ my_overdue: 0 });
    expect(live.state).toBe('live');
    socket.receive({ type: 'delta', seq: 11, patch: { my_overdue: 1 } });
    expect(live.doc).toEqual({ my_overdue: 1 });
    socket.receive({ type: 'delta', seq: 13, patch: { my_overdue: 3 } });
    expect(socket.closedWith).toBe(CLOSE.resync);
    live.stop();
  });
});

describe('one protocol module for server, browser, test client and k6 library', () => {
  it('the browser is served public/js/protocol.js itself, and live-document.js imports it', () => {
    const assets = buildAssets();
    const served = assets.get('protocol.js')!;
    const live = new TextDecoder().decode(assets.get('live-document.js')!.body);
    expect(live).toContain(`from '${served.url}'`);
    expect(new TextDecoder().decode(served.body)).toContain(`from '${assets.get('merge-patch.js')!.url}'`);
  });

  it('no copy of the frames, the close codes or their policy lives anywhere else', () => {
    const closeLiteral = /\b(4000|4008|4401|4403|4429|4999)\b/;
    for (const path of ['public/js/live-document.js', 'load/lib/realtime.ts', 'src/realtime/hub.ts']) {
      expect(read(path), path).not.toMatch(closeLiteral);
      expect(read(path), path).not.toMatch(/startsWith\('\{"type"|JSON\.parse\(/);
    }
    expect(read('src/realtime/frames.ts')).toContain("from '../../public/js/protocol.js'");
    expect(read('test/support/live-client.ts')).toContain("from '../../public/js/protocol.js'");
    const k6 = read('load/lib/realtime.ts');
    expect(k6).toContain("from '../../public/js/protocol.js'");
    expect(k6).toMatch(/reconnectDelayMs\(/);
    expect(k6).not.toMatch(/type Frame =/);
  });
});
