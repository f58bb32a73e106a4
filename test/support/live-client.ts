import WebSocket from 'ws';
import {
  apply,
  type DeltaFrame,
  decodeFrame,
  type Json,
  type ServerFrame,
} from '../../public/js/protocol.js';

export type Frame = ServerFrame;

/**
 * A realtime client for tests: connects with a bearer token, records every frame, rebuilds the
 * document from snapshot + deltas, and notes any seq gap.
 */
export class LiveClient {
  frames: Frame[] = [];
  doc: Json | undefined;
  seq = 0;
  gaps: string[] = [];
  /** Texts that were no server frame (not JSON, an unknown type, missing fields, a control frame). */
  invalid: string[] = [];
  sessionId: string | undefined;
  closeCode: number | undefined;
  ws!: WebSocket;

  constructor(
    readonly wsBase: string,
    readonly token: string,
    readonly options: { autoPong?: boolean; headers?: Record<string, string> } = {},
  ) {}

  /** Opens (or, with a session id, resumes) and waits for the first frame after hello. */
  async connect(resume?: { sessionId: string; lastSeq: number }): Promise<this> {
    this.closeCode = undefined;
    const query = resume ? `?session_id=${resume.sessionId}&last_seq=${resume.lastSeq}` : '';
    this.ws = new WebSocket(`${this.wsBase}/ws${query}`, {
      headers: { authorization: `Bearer ${this.token}`, ...this.options.headers },
      autoPong: this.options.autoPong ?? true,
    });
    this.ws.on('message', (data) => {
      const { frame } = decodeFrame(String(data));
      if (frame && frame.type !== 'control') this.#onFrame(frame);
      else this.invalid.push(String(data));
    });
    this.ws.on('close', (code) => {
      this.closeCode = code;
    });
    this.ws.on('error', () => {});
    const before = this.frames.length;
    await this.waitFor(() => this.frames.length > before || this.closeCode !== undefined, 10_000);
    return this;
  }

  #onFrame(frame: Frame) {
    this.frames.push(frame);
    if (frame.type === 'hello') this.sessionId = frame.session_id;
    else if (frame.type === 'snapshot') {
      this.doc = frame.data;
      this.seq = frame.seq;
    } else {
      if (frame.seq !== this.seq + 1) this.gaps.push(`${this.seq} -> ${frame.seq}`);
      this.doc = apply(this.doc ?? {}, frame.patch);
      this.seq = frame.seq;
    }
  }

  deltas(): DeltaFrame[] {
    return this.frames.filter((f) => f.type === 'delta');
  }

  /** The `index`-th frame received, which must be of type `type`. */
  nth<T extends Frame['type']>(index: number, type: T): Extract<Frame, { type: T }> {
    const frame = this.frames[index];
    if (frame?.type !== type) throw new Error(`frame ${index} is ${JSON.stringify(frame)}, not a ${type}`);
    return frame as Extract<Frame, { type: T }>;
  }

  async waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms; frames: ${JSON.stringify(this.frames.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close() {
    this.ws.close(1000);
  }
}

export async function signIn(base: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in ${username}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

/** A reply of the portal's API: its status and its parsed JSON body (`undefined` when empty). */
export interface Reply<T = unknown> {
  status: number;
  body: T;
}

/**
 * One API call with a bearer token. `T` is what the caller expects the body to be (not checked);
 * it defaults to `any` for the many older callers: new code names it (see test/support/fixtures.ts).
 */
// biome-ignore lint/suspicious/noExplicitAny: the default keeps older callers' `.body.id` compiling
export async function api<T = any>(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Reply<T>> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
