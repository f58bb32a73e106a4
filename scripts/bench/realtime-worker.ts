/**
 * One load-generator process of `bench:realtime` (started by scripts/bench/realtime.ts with an IPC
 * channel): holds many WebSocket sessions, and records the size of every frame and, for each
 * delta a plain user receives, which task status it reports and when it arrived.
 */
import WebSocket from 'ws';
import { TASK_STATUSES } from '../../src/db/schema/enums.ts';

export type Kind = 'user' | 'manager' | 'admin';
export interface Session {
  user: number;
  token: string;
  kind: Kind;
}
export type Command =
  | { cmd: 'open'; wsBase: string; sessions: Session[] }
  | { cmd: 'reset' }
  | { cmd: 'report' }
  | { cmd: 'close' };
export interface Report {
  /** Flat triples: user id, index of the status in STATUSES, arrival time (ms since the epoch). */
  deliveries: number[];
  bytes: Record<Kind, { snapshot: number[]; delta: number[] }>;
  open: number;
  /** Close codes of sockets that closed, and seq gaps seen. */
  closed: Record<string, number>;
  gaps: number;
  /** Frames other than hello, snapshot and delta (there should be none). */
  other: number;
}

const STATUSES = TASK_STATUSES;

const now = () => performance.timeOrigin + performance.now();
const sockets: WebSocket[] = [];
let deliveries: number[] = [];
const bytes: Report['bytes'] = { user: emptySizes(), manager: emptySizes(), admin: emptySizes() };
const closed: Record<string, number> = {};
let gaps = 0;
let other = 0;

function emptySizes() {
  return { snapshot: [] as number[], delta: [] as number[] };
}

function open(wsBase: string, s: Session): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${wsBase}/ws`, { headers: { authorization: `Bearer ${s.token}` } });
    let seq = 0;
    let settled = false;
    const settle = (ok: boolean) => {
      if (!settled) resolve(ok);
      settled = true;
    };
    ws.on('message', (data: Buffer) => {
      const at = now();
      const text = data.toString();
      if (text.startsWith('{"type":"delta"')) {
        bytes[s.kind].delta.push(data.length);
        const frame = JSON.parse(text) as { seq: number; patch: { my_tasks?: Record<string, number> } };
        if (frame.seq !== seq + 1) gaps++;
        seq = frame.seq;
        // A plain user has exactly one task in the benchmark: the status counted 1 is its new status.
        const status = STATUSES.findIndex((name) => frame.patch.my_tasks?.[name] === 1);
        if (s.kind === 'user' && status >= 0) deliveries.push(s.user, status, at);
      } else if (text.startsWith('{"type":"snapshot"')) {
        bytes[s.kind].snapshot.push(data.length);
        seq = (JSON.parse(text) as { seq: number }).seq;
        settle(true);
      } else if (!text.startsWith('{"type":"hello"')) other++;
    });
    ws.on('close', (code) => {
      closed[code] = (closed[code] ?? 0) + 1;
      settle(false);
    });
    ws.on('error', () => settle(false));
    sockets.push(ws);
  });
}

process.on('message', async (msg: Command) => {
  if (msg.cmd === 'open') {
    let ok = 0;
    for (let i = 0; i < msg.sessions.length; i += 250) {
      const results = await Promise.all(msg.sessions.slice(i, i + 250).map((s) => open(msg.wsBase, s)));
      ok += results.filter(Boolean).length;
    }
    process.send!({ opened: ok, failed: msg.sessions.length - ok });
  } else if (msg.cmd === 'reset') {
    deliveries = []; // frame sizes keep accumulating over the whole run
    process.send!({ ok: true });
  } else if (msg.cmd === 'report') {
    const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
    const report: Report = { deliveries, bytes, open, closed, gaps, other };
    process.send!(report);
  } else if (msg.cmd === 'close') {
    for (const s of sockets) s.terminate();
    process.exit(0);
  }
});
process.send!({ ready: true });
