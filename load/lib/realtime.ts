/**
 * A realtime client for `GET /ws` (docs/contract.md §6) on `k6/websockets`, where one virtual user holds
 * many sockets: each `Tab` is one browser tab (one realtime session), resumed with its
 * `session_id` and `last_seq` after a drop, checking on every frame that `seq` never skips.
 *
 * Frames: `hello` (always first), then a `snapshot` or (on a resume the history still covers)
 * the missed `delta`s, then live deltas; each delta's `seq` is exactly one more than the last.
 */
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import { clearTimeout, setTimeout } from 'k6/timers';
import { type MessageEvent, WebSocket } from 'k6/websockets';
// The portal's own merge patch (one implementation for server, browser and load scripts).
import { apply as applyMergePatch, type Json } from '../../public/js/merge-patch.js';
// The portal's own protocol module: frames, their decoding, and what a close code asks for.
import { closeAction, decodeFrame, reconnectDelayMs } from '../../public/js/protocol.js';
import { login, params, parse } from './api.ts';
import { BASE_URL, WS_URL } from './config.ts';

export type { Json };

/** Custom metrics (created once per VU, in the init context, as k6 requires). */
export const rt = {
  /** A new session: from opening the socket to its snapshot. */
  sessionReady: new Trend('rt_session_ready', true),
  /** Share of new sessions that got hello + snapshot within READY_TIMEOUT_MS. */
  sessionOpened: new Rate('rt_session_opened'),
  /** A resume: from opening the socket to `hello` with `resumed: true`. */
  resumeTime: new Trend('rt_resume_time', true),
  /** Share of resume attempts answered `resumed: true` with the same session id. */
  resumed: new Rate('rt_resumed'),
  /** Resumed, but the history no longer covered `last_seq`: a fresh snapshot came instead (allowed). */
  resumeSnapshots: new Counter('rt_resume_snapshots'),
  /** A delta whose `seq` skipped one or more versions: a lost update. Must stay 0. */
  seqGaps: new Counter('rt_seq_gaps'),
  /** A delta at or below the version already held (harmless, but the server should filter them). */
  seqDuplicates: new Counter('rt_seq_duplicates'),
  /** Frames breaking the protocol: not JSON, unknown type, malformed, a control frame, hello not first, delta before snapshot. */
  protocolErrors: new Counter('rt_protocol_errors'),
  deltas: new Counter('rt_deltas'),
  /**
   * From the change behind a delta (the server's `at` stamp, when it sends one) to its arrival here.
   * Only meaningful when the load generator's clock agrees with the servers' (same machine, NTP).
   */
  deltaAge: new Trend('rt_delta_age', true),
  /** Share of socket closes the client did not ask for (tagged with the close code). */
  unexpectedClose: new Rate('rt_unexpected_close'),
  /** Share of sign-ins that succeeded. */
  signedIn: new Rate('rt_signed_in'),
  /** After writes settle: the document built from snapshot + deltas equals `GET /api/metrics`. */
  docConverged: new Rate('rt_doc_converged'),
};

/** JSON with object keys sorted, so two equal documents compare equal as text. */
export function canonical(value: Json | undefined): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
}

export interface TabOptions {
  token: string;
  /** Keep the document (snapshot + deltas) to compare with `GET /api/metrics` at the end. */
  keepDoc: boolean;
  readyTimeoutMs: number;
  /** Every in-order delta, with the time k6 read it off the network (ms since the epoch). */
  onDelta?: (tab: Tab, seq: number, arrivedAt: number) => void;
  /** Every `hello`; `resumed` is false for a new session. */
  onHello?: (tab: Tab, resumed: boolean, arrivedAt: number) => void;
  /** The server or the network closed the socket (not us); the tab resumes on its own. */
  onLost?: (tab: Tab, at: number, code: number) => void;
}

type Phase = 'idle' | 'connecting' | 'live' | 'waiting' | 'stopped';

interface Attempt {
  kind: 'fresh' | 'resume';
  startedAt: number;
  hello: boolean;
  resumedOk: boolean;
  sawFrame: boolean;
  /** Its outcome (rt_session_opened or rt_resumed) is recorded once. */
  recorded: boolean;
}

/** One browser tab: one realtime session, reconnected and resumed like the portal's own client. */
export class Tab {
  sessionId: string | undefined;
  seq: number | undefined;
  doc: Json | undefined;
  phase: Phase = 'idle';

  private ws: WebSocket | undefined;
  private attempt: Attempt | undefined;
  private timer: number | undefined;
  private failures = 0;
  /** Why we are closing the current socket ourselves (none: the server or the network closed it). */
  private intent: 'none' | 'drop' | 'stop' | 'retry' = 'none';
  private reopenDelayMs = 0;

  constructor(readonly options: TabOptions) {}

  get live(): boolean {
    return this.phase === 'live';
  }

  /** Opens a new session, or resumes the current one when it has a session id. */
  open(): void {
    if (this.phase === 'stopped') return;
    this.clearTimer();
    const resume = this.sessionId !== undefined;
    const query = resume
      ? `?session_id=${encodeURIComponent(this.sessionId ?? '')}${this.seq === undefined ? '' : `&last_seq=${this.seq}`}`
      : '';
    this.attempt = {
      kind: resume ? 'resume' : 'fresh',
      startedAt: Date.now(),
      hello: false,
      resumedOk: false,
      sawFrame: false,
      recorded: false,
    };
    this.phase = 'connecting';
    const ws = new WebSocket(`${WS_URL}${query}`, null, {
      headers: { Authorization: `Bearer ${this.options.token}` },
      // One series for every URL (session ids would otherwise make a series per session).
      tags: { name: resume ? '/ws (resume)' : '/ws' },
    });
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (this.ws === ws && this.phase === 'stopped') this.closeSocket(ws, 'stop');
    });
    ws.addEventListener('message', (event) => {
      if (this.ws === ws) this.onMessage(ws, event as MessageEvent);
    });
    ws.addEventListener('close', (event) => {
      if (this.ws === ws) this.onClose(event as unknown as { code?: number });
    });
    // An error event (a failed handshake, a close code other than 1000/1001) is followed by a close event.
    ws.addEventListener('error', () => {});
    this.timer = setTimeout(() => this.onReadyTimeout(ws), this.options.readyTimeoutMs);
  }

  /** Drops the socket (as a network blip would) and resumes the session after `delayMs`. */
  drop(delayMs = 0): boolean {
    if (this.phase !== 'live' || !this.ws) return false;
    this.reopenDelayMs = delayMs;
    return this.closeSocket(this.ws, 'drop');
  }

  /** Closes for good (end of test). */
  stop(): void {
    this.phase = 'stopped';
    this.clearTimer();
    if (this.ws) this.closeSocket(this.ws, 'stop');
  }

  private closeSocket(ws: WebSocket, intent: 'drop' | 'stop' | 'retry'): boolean {
    // Never close while CONNECTING: k6 queues the close frame for a writer that only starts once
    // the handshake is done, which would stall this VU. The `open` listener closes it instead.
    if (ws.readyState !== WebSocket.OPEN) return false;
    this.intent = intent;
    ws.close();
    return true;
  }

  private clearTimer() {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private record(ok: boolean) {
    const attempt = this.attempt;
    if (!attempt || attempt.recorded) return;
    attempt.recorded = true;
    (attempt.kind === 'fresh' ? rt.sessionOpened : rt.resumed).add(ok);
  }

  private ready() {
    this.clearTimer();
    this.phase = 'live';
    this.failures = 0;
  }

  private onMessage(ws: WebSocket, event: MessageEvent) {
    if (this.phase === 'stopped') {
      this.closeSocket(ws, 'stop');
      return;
    }
    // When k6 read the frame (ms since the epoch), not when this VU's event loop got to it.
    const at = event.timestamp;
    const attempt = this.attempt;
    const decoded = decodeFrame(String(event.data));
    if (!decoded.frame) {
      rt.protocolErrors.add(1, { reason: decoded.error });
      return;
    }
    const frame = decoded.frame;
    if (!attempt) return;
    switch (frame.type) {
      case 'hello': {
        if (attempt.hello) rt.protocolErrors.add(1, { reason: 'second_hello' });
        attempt.hello = true;
        if (attempt.kind === 'resume') {
          const ok = frame.resumed === true && frame.session_id === this.sessionId;
          attempt.resumedOk = ok;
          this.record(ok);
          if (ok) {
            rt.resumeTime.add(at - attempt.startedAt);
            this.ready(); // the missed deltas (or a snapshot) follow
          }
        } else if (frame.resumed) {
          rt.protocolErrors.add(1, { reason: 'resumed_without_session' });
        }
        this.sessionId = frame.session_id;
        this.options.onHello?.(this, attempt.resumedOk, at);
        return;
      }
      case 'snapshot': {
        if (!attempt.hello) rt.protocolErrors.add(1, { reason: 'snapshot_before_hello' });
        if (attempt.resumedOk && !attempt.sawFrame) rt.resumeSnapshots.add(1);
        attempt.sawFrame = true;
        this.seq = frame.seq;
        if (this.options.keepDoc) this.doc = frame.data;
        if (this.phase !== 'live') {
          if (attempt.kind === 'fresh' && !attempt.recorded) rt.sessionReady.add(at - attempt.startedAt);
          this.record(true);
          this.ready();
        }
        return;
      }
      case 'delta': {
        attempt.sawFrame = true;
        if (!attempt.hello || this.seq === undefined) {
          rt.protocolErrors.add(1, { reason: 'delta_before_snapshot' });
          return;
        }
        if (frame.seq <= this.seq) {
          rt.seqDuplicates.add(1);
          return;
        }
        if (frame.seq !== this.seq + 1) {
          // docs/contract.md §6: a client that sees a gap reconnects with its session for what it missed.
          rt.seqGaps.add(1);
          console.warn(`seq gap on session ${this.sessionId}: had ${this.seq}, got ${frame.seq}`);
          if (this.phase === 'live') this.drop(0);
          return;
        }
        this.seq = frame.seq;
        if (this.options.keepDoc) this.doc = applyMergePatch(this.doc, frame.patch);
        rt.deltas.add(1);
        if (typeof frame.at === 'number') rt.deltaAge.add(Math.max(0, at - frame.at));
        this.options.onDelta?.(this, frame.seq, at);
        return;
      }
      case 'control':
        // Instance-to-instance only: a client must never see one.
        rt.protocolErrors.add(1, { reason: 'control_frame' });
        return;
      default:
        frame satisfies never;
    }
  }

  private onReadyTimeout(ws: WebSocket) {
    this.timer = undefined;
    if (this.ws !== ws || this.phase !== 'connecting') return;
    this.record(false);
    // Still handshaking: leave it (k6 gives up after 60 s and a close event follows).
    this.closeSocket(ws, 'retry');
  }

  private onClose(event: { code?: number }) {
    const code = event.code ?? 0;
    const intent = this.intent;
    this.intent = 'none';
    this.ws = undefined;
    this.clearTimer();
    if (intent === 'stop' || this.phase === 'stopped') {
      this.phase = 'stopped';
      return;
    }
    if (intent === 'drop') {
      rt.unexpectedClose.add(false);
      this.reopen(this.reopenDelayMs);
      return;
    }
    if (intent === 'none') {
      rt.unexpectedClose.add(true, { code: String(code) });
      this.options.onLost?.(this, Date.now(), code);
    }
    this.record(false); // closed before it was ready
    // The browser client's policy (public/js/protocol.js): the same delays for the same codes.
    const delay = reconnectDelayMs(code, this.failures++);
    if (delay === undefined) {
      console.warn(
        `session ${this.sessionId ?? '(new)'} closed with ${code} (${closeAction(code)}); not retrying`,
      );
      this.phase = 'stopped';
      return;
    }
    this.reopen(delay);
  }

  private reopen(delayMs: number) {
    this.phase = 'waiting';
    if (delayMs <= 0) {
      this.open();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, delayMs);
  }
}

/** The tabs of one signed-in user in this VU. */
export interface UserTabs {
  username: string;
  token: string | undefined;
  tabs: Tab[];
}

export interface FleetOptions {
  /** Usernames this VU holds sessions for (all tabs of a user stay in one VU). */
  usernames: string[];
  password: string;
  tabsPerUser: number;
  /** When to open the first socket of this VU's share, and over how long all sockets of the test open. */
  startAt: number;
  rampMs: number;
  /** Position of this VU's first socket among all sockets of the test, and how many there are. */
  firstIndex: number;
  totalSockets: number;
  keepDoc: boolean;
  readyTimeoutMs: number;
  onHello?: TabOptions['onHello'];
  onLost?: TabOptions['onLost'];
}

/**
 * This VU's share of the sessions: signs each user in just before its first tab opens, and opens
 * every socket of the test at an even pace over `rampMs` (the VUs together make one steady ramp).
 */
export class Fleet {
  readonly users: UserTabs[] = [];
  private readonly timers: number[] = [];

  constructor(readonly options: FleetOptions) {}

  start(): void {
    const { usernames, tabsPerUser, startAt, rampMs, firstIndex, totalSockets } = this.options;
    usernames.forEach((username, u) => {
      const group: UserTabs = { username, token: undefined, tabs: [] };
      this.users.push(group);
      for (let t = 0; t < tabsPerUser; t++) {
        const index = firstIndex + u * tabsPerUser + t;
        const at = startAt + (rampMs * index) / Math.max(1, totalSockets);
        const id = setTimeout(() => this.openTab(group, t), Math.max(0, at - Date.now()));
        this.timers.push(id);
      }
    });
  }

  private openTab(group: UserTabs, t: number) {
    if (t === 0) {
      const session = login(group.username, this.options.password);
      rt.signedIn.add(session !== undefined);
      group.token = session?.token;
    }
    if (!group.token) return;
    const tab = new Tab({
      token: group.token,
      keepDoc: this.options.keepDoc,
      readyTimeoutMs: this.options.readyTimeoutMs,
      onHello: this.options.onHello,
      onLost: this.options.onLost,
    });
    group.tabs.push(tab);
    tab.open();
  }

  get tabs(): Tab[] {
    return this.users.flatMap((u) => u.tabs);
  }

  stop(): void {
    for (const id of this.timers) clearTimeout(id);
    for (const tab of this.tabs) tab.stop();
  }
}

/**
 * Once writes have settled: each tab's document (snapshot + deltas applied in order) must equal
 * what `GET /api/metrics` answers for its user now. A tab that is not live counts as a failure.
 */
export function checkConvergence(users: UserTabs[]): void {
  for (const user of users) {
    if (!user.token || user.tabs.length === 0) continue;
    const res = http.get(`${BASE_URL}/api/metrics`, params(user.token, 'GET /api/metrics'));
    const expected = res.status === 200 ? canonical(parse<Json>(res)) : undefined;
    for (const tab of user.tabs) {
      const ok = expected !== undefined && tab.live && canonical(tab.doc) === expected;
      rt.docConverged.add(ok);
      if (!ok && expected !== undefined) {
        console.warn(
          `${user.username}: session ${tab.sessionId} at seq ${tab.seq} (${tab.phase}) differs from GET /api/metrics`,
        );
      }
    }
  }
}
