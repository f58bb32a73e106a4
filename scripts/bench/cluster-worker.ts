/**
 * One load-generator process of `bench:cluster` (started by scripts/bench/cluster.ts with an IPC channel).
 * Holds sessions spread over several instances and behaves like the browser client
 * (public/js/live-document.js) behind a load balancer: when a socket drops it reconnects to another
 * instance after a backoff with full jitter and resumes with its session id and last seq. It keeps each session's
 * document (snapshot + merge patches) so the run can compare it with the database at the end.
 */
import WebSocket from 'ws';
import { TASK_STATUSES } from '../../src/db/schema/enums.ts';
import { apply, type Json } from '../../src/realtime/merge-patch.ts';

export interface Session {
  user: number;
  token: string;
}
export type Command =
  | { cmd: 'open'; instances: string[]; floors: string[]; sessions: Session[]; first: number }
  | { cmd: 'mark' }
  | { cmd: 'closeFloor' }
  | { cmd: 'report' }
  | { cmd: 'close' };
export interface Report {
  /** Flat triples: user id, index of the status in STATUSES, arrival time (ms since the epoch). */
  deliveries: number[];
  /** The same, through the floor (scripts/bench/floor.ts), on each session's floor socket. */
  floorDeliveries: number[];
  /** Floor sockets open. */
  floorOpen: number;
  open: number;
  /** Sessions that dropped since the mark, and when each was caught up again (ms after the mark). */
  dropped: number;
  recovered: number[];
  /** Resumes answered `resumed: false` (history or session lost: a snapshot instead of a replay). */
  notResumed: number;
  gaps: number;
  /** Connection attempts since the mark that closed before catching up (refused, dropped). */
  failedAttempts: number;
  /** Close codes seen since the mark. */
  codes: Record<string, number>;
  /**
   * Where each recovered session's time went (ms), one entry per recovery: waiting out its
   * backoff before the attempt that succeeded (and before earlier failed ones), from that attempt
   * to the socket's open (TCP + upgrade), and from the open to being caught up (hello, replay).
   */
  phases: { waited: number; upgrade: number; resume: number }[];
  /** Each session's user and the status its document says that user's only task has. */
  states: [user: number, status: string | null][];
}

const STATUSES = TASK_STATUSES;
const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5000;

const now = () => performance.timeOrigin + performance.now();
let deliveries: number[] = [];
let floorDeliveries: number[] = [];
let mark = 0;
let recovered: number[] = [];
let dropped = 0;
let notResumed = 0;
let gaps = 0;
let failedAttempts = 0;
let codes: Record<string, number> = {};
let phases: Report['phases'] = [];
let closing = false;

class Live {
  ws: WebSocket | undefined;
  /** This session's socket on the floor instance with the same index (never reconnected). */
  floor: WebSocket | undefined;
  doc: Json | undefined;
  seq = 0;
  sessionId: string | undefined;
  attempt = 0;
  droppedAt = 0;
  /** When the current attempt started, and when its socket opened. */
  attemptAt = 0;
  openedAt = 0;

  constructor(
    readonly s: Session,
    readonly instances: string[],
    public at: number,
  ) {}

  /** Resolves once the first snapshot (or replay) arrived, false if the socket closed first. */
  connect(): Promise<boolean> {
    return new Promise((resolve) => {
      const resume = this.sessionId ? `?session_id=${this.sessionId}&last_seq=${this.seq}` : '';
      const ws = new WebSocket(`${this.instances[this.at]}/ws${resume}`, {
        headers: { authorization: `Bearer ${this.s.token}` },
      });
      this.ws = ws;
      this.attemptAt = now();
      ws.on('open', () => {
        this.openedAt = now();
      });
      let settled = false;
      const settle = (ok: boolean) => {
        if (!settled) resolve(ok);
        settled = true;
      };
      const caughtUp = () => {
        this.attempt = 0;
        if (this.droppedAt) {
          if (mark) recovered.push(now() - mark);
          if (mark)
            phases.push({
              waited: this.attemptAt - this.droppedAt,
              upgrade: this.openedAt - this.attemptAt,
              resume: now() - this.openedAt,
            });
          this.droppedAt = 0;
        }
        settle(true);
      };
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        const frame = JSON.parse(text) as {
          type: string;
          seq: number;
          session_id?: string;
          resumed?: boolean;
          data?: Json;
          patch?: Json;
        };
        if (frame.type === 'hello') {
          if (this.sessionId && !frame.resumed) notResumed++;
          this.sessionId = frame.session_id;
          // A resumed session with nothing to replay is caught up at once.
          if (frame.resumed) caughtUp();
        } else if (frame.type === 'snapshot') {
          this.doc = frame.data;
          this.seq = frame.seq;
          caughtUp();
        } else if (frame.type === 'delta') {
          if (frame.seq !== this.seq + 1) gaps++;
          this.seq = frame.seq;
          this.doc = apply(this.doc ?? {}, frame.patch!);
          const my = (frame.patch as { my_tasks?: Record<string, number> }).my_tasks;
          const status = STATUSES.findIndex((name) => my?.[name] === 1);
          if (status >= 0) deliveries.push(this.s.user, status, now());
          caughtUp();
        }
      });
      ws.on('close', (code) => {
        if (mark) codes[code] = (codes[code] ?? 0) + 1;
        if (!settled && mark) failedAttempts++;
        settle(false);
        if (closing || this.ws !== ws) return;
        if (!this.droppedAt) {
          this.droppedAt = now();
          if (mark) dropped++;
        }
        // Like the browser behind a load balancer: after a backoff with full jitter, another
        // instance picked at random (the dead one is not offered again right away).
        const delay = Math.random() * Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempt++);
        const others = this.instances.map((_, i) => i).filter((i) => i !== this.at);
        this.at = others[Math.floor(Math.random() * others.length)] ?? this.at;
        setTimeout(() => void this.connect(), delay);
      });
      ws.on('error', () => {});
    });
  }

  /** Opens the floor socket beside the portal one; resolves once it is open (or failed). */
  openFloor(base: string): Promise<boolean> {
    return new Promise((resolve) => {
      const ws = new WebSocket(`${base}/?user=${this.s.user}`);
      this.floor = ws;
      ws.on('open', () => resolve(true));
      ws.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString()) as { user: number; status: string };
        const status = STATUSES.indexOf(frame.status as (typeof STATUSES)[number]);
        if (status >= 0) floorDeliveries.push(this.s.user, status, now());
      });
      ws.on('close', () => resolve(false));
      ws.on('error', () => {});
    });
  }

  status(): string | null {
    const my = (this.doc as { my_tasks?: Record<string, number> } | undefined)?.my_tasks ?? {};
    return STATUSES.find((name) => (my[name] ?? 0) > 0) ?? null;
  }
}

const sessions: Live[] = [];

process.on('message', async (msg: Command) => {
  if (msg.cmd === 'open') {
    let ok = 0;
    const fresh = msg.sessions.map(
      (s, i) => new Live(s, msg.instances, (msg.first + i) % msg.instances.length),
    );
    sessions.push(...fresh);
    for (let i = 0; i < fresh.length; i += 200) {
      const slice = fresh.slice(i, i + 200);
      const results = await Promise.all(slice.map((l) => l.connect()));
      ok += results.filter(Boolean).length;
      if (msg.floors.length > 0) await Promise.all(slice.map((l) => l.openFloor(msg.floors[l.at]!)));
    }
    process.send!({ opened: ok, failed: fresh.length - ok });
  } else if (msg.cmd === 'mark') {
    mark = now();
    deliveries = [];
    floorDeliveries = [];
    recovered = [];
    dropped = 0;
    notResumed = 0;
    failedAttempts = 0;
    codes = {};
    phases = [];
    process.send!({ ok: true });
  } else if (msg.cmd === 'closeFloor') {
    for (const l of sessions) l.floor?.terminate();
    process.send!({ ok: true });
  } else if (msg.cmd === 'report') {
    const report: Report = {
      deliveries,
      floorDeliveries,
      floorOpen: sessions.filter((l) => l.floor?.readyState === WebSocket.OPEN).length,
      open: sessions.filter((l) => l.ws?.readyState === WebSocket.OPEN).length,
      dropped,
      recovered,
      notResumed,
      gaps,
      failedAttempts,
      codes,
      phases,
      states: sessions.map((l) => [l.s.user, l.status()]),
    };
    process.send!(report);
  } else if (msg.cmd === 'close') {
    closing = true;
    for (const l of sessions) {
      l.ws?.terminate();
      l.floor?.terminate();
    }
    process.exit(0);
  }
});
process.send!({ ready: true });
