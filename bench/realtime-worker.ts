/**
 * One load-generator process for `bench:realtime`: holds many WebSocket sessions and records
 * when each delta arrives (absolute high-resolution time) and how large frames are.
 */
import WebSocket from 'ws';

interface Session {
  user: number;
  token: string;
}

const now = () => performance.timeOrigin + performance.now();
const sockets: WebSocket[] = [];
/** Per session: its user and when each delta arrived. */
let deltas: Record<number, { user: number; times: number[] }> = {};
let nextSession = 0;
let snapshotBytes: number[] = [];
let deltaBytes: number[] = [];
let otherFrames = 0;

function open(wsBase: string, s: Session): Promise<boolean> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${wsBase}/ws`, { headers: { authorization: `Bearer ${s.token}` } });
    const session = nextSession++;
    let settled = false;
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text.startsWith('{"type":"delta"')) {
        deltas[session] ??= { user: s.user, times: [] };
        deltas[session].times.push(now());
        deltaBytes.push(data.length);
      } else if (text.startsWith('{"type":"snapshot"')) {
        snapshotBytes.push(data.length);
        if (!settled) {
          settled = true;
          resolve(true);
        }
      } else if (!text.startsWith('{"type":"hello"')) otherFrames++;
    });
    ws.on('error', () => {
      if (!settled) {
        settled = true;
        resolve(false);
      }
    });
    sockets.push(ws);
  });
}

process.on('message', async (msg: { cmd: string; wsBase?: string; sessions?: Session[] }) => {
  if (msg.cmd === 'open') {
    let ok = 0;
    const list = msg.sessions!;
    for (let i = 0; i < list.length; i += 250) {
      const results = await Promise.all(list.slice(i, i + 250).map((s) => open(msg.wsBase!, s)));
      ok += results.filter(Boolean).length;
    }
    process.send!({ opened: ok, failed: list.length - ok });
  } else if (msg.cmd === 'reset') {
    deltas = {};
    deltaBytes = [];
    snapshotBytes = [];
    otherFrames = 0;
    process.send!({ ok: true });
  } else if (msg.cmd === 'report') {
    const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
    process.send!({ deltas, deltaBytes, snapshotBytes, otherFrames, open });
  } else if (msg.cmd === 'close') {
    for (const s of sockets) s.terminate();
    process.exit(0);
  }
});
process.send!({ ready: true });
