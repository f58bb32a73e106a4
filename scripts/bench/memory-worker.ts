/**
 * One load-generator process of `bench:memory` (IPC): opens WebSockets from its own source
 * address (127.0.0.x, so that the ephemeral ports of one address never run out), holds them
 * idle, and counts the frames that reach them. A 503 before the upgrade (admission control) is
 * retried after its Retry-After.
 */
import WebSocket from 'ws';

export type Command =
  | { cmd: 'open'; url: string; tokens: string[]; count: number; offset: number; localAddress: string }
  | { cmd: 'count' }
  | { cmd: 'terminate' };
export interface Counts {
  open: number;
  frames: number;
  deltas: number;
  /** Close codes of sockets that closed on their own. */
  closed: Record<string, number>;
}

let sockets: WebSocket[] = [];
let frames = 0;
let deltas = 0;
const closed: Record<string, number> = {};
/** Sockets of an earlier server (terminated) may report their close late: only this one's count. */
let generation = 0;

function open(url: string, token: string | undefined, localAddress: string): Promise<boolean> {
  const mine = generation;
  return new Promise((resolve) => {
    const attempt = () => {
      const ws = new WebSocket(url, {
        localAddress,
        perMessageDeflate: false,
        ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      });
      let settled = false;
      const settle = (ok: boolean) => {
        if (!settled) resolve(ok);
        settled = true;
      };
      ws.on('unexpected-response', (_request, response) => {
        response.resume();
        ws.terminate();
        if (response.statusCode === 503) setTimeout(attempt, 1000 + Math.random() * 1000);
        else settle(false);
        settled = true;
      });
      ws.on('open', () => {
        sockets.push(ws);
        // A bare server sends nothing: open is all there is.
        if (!token) settle(true);
      });
      ws.on('message', (data: Buffer) => {
        frames++;
        const text = data.toString();
        if (text.startsWith('{"type":"delta"')) deltas++;
        else if (text.startsWith('{"type":"snapshot"')) settle(true);
      });
      ws.on('close', (code) => {
        if (mine === generation) closed[code] = (closed[code] ?? 0) + 1;
        settle(false);
      });
      ws.on('error', () => settle(false));
    };
    attempt();
  });
}

process.on('message', async (msg: Command) => {
  if (msg.cmd === 'open') {
    let ok = 0;
    const url = `${msg.url}/ws`;
    for (let i = 0; i < msg.count; i += 100) {
      const batch = Array.from({ length: Math.min(100, msg.count - i) }, (_, j) =>
        open(
          url,
          msg.tokens.length ? msg.tokens[(msg.offset + i + j) % msg.tokens.length] : undefined,
          msg.localAddress,
        ),
      );
      ok += (await Promise.all(batch)).filter(Boolean).length;
    }
    process.send!({ opened: ok, failed: msg.count - ok });
  } else if (msg.cmd === 'count') {
    const counts: Counts = {
      open: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
      frames,
      deltas,
      closed,
    };
    process.send!(counts);
  } else if (msg.cmd === 'terminate') {
    generation++;
    for (const s of sockets) s.terminate();
    sockets = [];
    frames = 0;
    deltas = 0;
    for (const k of Object.keys(closed)) delete closed[k];
    await new Promise((r) => setTimeout(r, 500));
    process.send!({ ok: true });
  }
});
process.send!({ ready: true });
