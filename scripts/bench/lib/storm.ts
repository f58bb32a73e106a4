/**
 * An open storm (issue 12, goal 6): `total` WebSockets opened at `rate` per second (0: all at
 * once) across `urls`, each until its snapshot arrives. A socket refused with HTTP 503 before
 * the upgrade waits as the protocol module says (`refusedDelayMs`: Retry-After plus jitter) and
 * tries again; any other end before the snapshot is recorded by how it ended. Used by
 * scripts/bench/open-storm.ts and test/realtime/open-storm.test.ts, in a process of its own
 * (scripts/bench/storm-client.ts) so the clients' event loop is not the servers'.
 */
import WebSocket from 'ws';
import { refusedDelayMs } from '../../../public/js/protocol.js';

export interface StormPlan {
  urls: string[];
  token: string;
  /** Tokens of several users, socket i using `tokens[i % length]` (default: `token` for all). */
  tokens?: string[];
  total: number;
  /** Opens per second; 0 opens every socket at once. */
  rate: number;
  /** Gives up on sockets still opening after this long. */
  timeoutMs: number;
}

export interface StormResult {
  total: number;
  /** Sockets that reached their snapshot (after any number of refusals). */
  snapshot: number;
  /** Sockets refused with 503 at least once (and the 503 answers in all). */
  refusedSockets: number;
  refusals: number;
  /** Every 503 carried Retry-After. */
  retryAfterSeen: boolean;
  /** Ended without a close frame before the snapshot: a reset, a hang-up, close 1006. */
  cut: number;
  /** How the cut and otherwise failed sockets ended (error code or close code). */
  endings: Record<string, number>;
  stillOpening: number;
  /** From the first attempt to the snapshot, in ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  elapsedMs: number;
}

export async function runStorm(plan: StormPlan): Promise<StormResult> {
  const sockets: WebSocket[] = [];
  const endings: Record<string, number> = {};
  const times: number[] = [];
  let refusals = 0;
  let refusedSockets = 0;
  let retryAfterSeen = true;
  let cut = 0;
  let settled = 0;
  const started = performance.now();
  const note = (ending: string) => {
    endings[ending] = (endings[ending] ?? 0) + 1;
  };

  let finish!: () => void;
  const allSettled = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const settle = () => {
    if (++settled === plan.total) finish();
  };

  const open = (index: number) => {
    const url = `${plan.urls[index % plan.urls.length]}/ws`;
    const first = performance.now();
    let refused = 0;
    const attempt = () => {
      const ws = new WebSocket(url, {
        headers: { authorization: `Bearer ${plan.tokens?.[index % plan.tokens.length] ?? plan.token}` },
        perMessageDeflate: false,
      });
      sockets.push(ws);
      let done = false;
      let sawHello = false;
      const end = (ending: string, isCut: boolean) => {
        if (done) return;
        done = true;
        note(ending);
        if (isCut) cut++;
        settle();
      };
      ws.on('unexpected-response', (_request, response) => {
        response.resume();
        if (response.statusCode === 503) {
          done = true; // this attempt is over; the socket is not
          refusals++;
          if (refused++ === 0) refusedSockets++;
          const retryAfter = response.headers['retry-after'];
          if (retryAfter === undefined) retryAfterSeen = false;
          setTimeout(attempt, refusedDelayMs(retryAfter, refused - 1));
        } else end(`http ${response.statusCode}`, false);
        ws.terminate();
      });
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as { type: string };
        if (frame.type === 'hello') sawHello = true;
        if (frame.type === 'snapshot' && !done) {
          done = true;
          times.push(performance.now() - first);
          settle();
        }
      });
      ws.on('error', (error: NodeJS.ErrnoException) => {
        if (!done) end(`${error.code ?? error.message}${sawHello ? ' after hello' : ' before hello'}`, true);
      });
      ws.on('close', (code) => {
        // 1006: the connection ended without a close frame.
        if (!done) end(`close ${code}`, code === 1006);
      });
    };
    attempt();
  };

  if (plan.rate <= 0) for (let i = 0; i < plan.total; i++) open(i);
  else {
    const t0 = performance.now();
    for (let i = 0; i < plan.total; i++) {
      const due = t0 + (i * 1000) / plan.rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      open(i);
    }
  }
  await Promise.race([allSettled, new Promise((r) => setTimeout(r, plan.timeoutMs))]);
  const elapsedMs = performance.now() - started;
  const stillOpening = plan.total - settled;
  for (const ws of sockets) if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  await new Promise((r) => setTimeout(r, 500));
  for (const ws of sockets) ws.terminate();
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0);
  return {
    total: plan.total,
    snapshot: times.length,
    refusedSockets,
    refusals,
    retryAfterSeen,
    cut,
    endings,
    stillOpening,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: Math.round(times.at(-1) ?? 0),
    elapsedMs: Math.round(elapsedMs),
  };
}

/** Runs a storm in a process of its own (scripts/bench/storm-client.ts) and answers its result. */
export async function stormProcess(plan: StormPlan): Promise<StormResult> {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  // In a file: the tokens of many users exceed what one environment variable may hold (128 KiB).
  const planFile = join(mkdtempSync(join(tmpdir(), 'storm-plan-')), 'plan.json');
  writeFileSync(planFile, JSON.stringify(plan));
  const command = `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "${process.execPath}" --import tsx scripts/bench/storm-client.ts`;
  const child = spawn('bash', ['-c', command], {
    env: { ...process.env, STORM_PLAN_FILE: planFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = out.trim().split('\n').at(-1);
  if (code !== 0 || !line) throw new Error(`storm client exited (${code}): ${err || out}`);
  return JSON.parse(line) as StormResult;
}

/** The kernel's TCP counters that an open storm moves (`nstat -az`, system-wide). */
export async function tcpCounters(): Promise<Record<string, number>> {
  const { execFileSync } = await import('node:child_process');
  const names = ['TcpExtListenOverflows', 'TcpExtListenDrops', 'TcpEstabResets', 'TcpAttemptFails'];
  try {
    const text = execFileSync('nstat', ['-az', ...names], { encoding: 'utf8' });
    const counters: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const [name, value] = line.trim().split(/\s+/);
      if (name && names.includes(name)) counters[name] = Number(value);
    }
    return counters;
  } catch {
    return {};
  }
}
