/**
 * `npm run bench:memory` (issue 12, goal 3): resident memory per idle realtime session on one
 * instance, beside a yardstick measured in the same run on the same Node and `ws`:
 *
 * - `ws`: a bare `ws` WebSocketServer holding the same number of idle sockets (the library's floor);
 * - `hono`: Hono + `@hono/node-server` + `@hono/node-ws` with an empty upgrade handler;
 * - `embedded`: the portal (`src/main.ts`) on PGlite in its own process, no Redis;
 * - `redis`: the portal on PostgreSQL and Redis, then a hold phase: the sessions held for
 *   MEMORY_HOLD_MINUTES with MEMORY_WRITES_PER_S status updates flowing, RSS sampled every 30 s.
 *
 * Each server runs alone (one after the other) with the sockets held by MEMORY_WORKERS load-generator
 * processes (scripts/bench/memory-worker.ts), each from its own 127.0.0.x source address. Memory per
 * session = (RSS with N sockets − RSS with none, same process) / N, 3 s after the last socket
 * opened, no forced GC; the heap figures come from scripts/bench/memory-probe.mjs after a forced GC.
 *
 * Environment: MEMORY_SESSIONS (10000,20000; a step above the open-files limit is capped to it),
 * MEMORY_USERS (200), MEMORY_HOLD_MINUTES (10), MEMORY_WRITES_PER_S (10), MEMORY_SERVERS
 * (ws,hono,embedded,redis), MEMORY_WORKERS (4), MEMORY_ENTRY (src/main.ts; dist/main.js after
 * `npm run build`), MEMORY_WRITE_DOCS (0: print only). Writes section bench-memory of docs/benchmarks.md.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect } from './lib/database.ts';
import { f0, f1, row, sum, utcMinute } from './lib/format.ts';
import { LoadGenerators } from './lib/generators.ts';
import { openFilesLimit, planPortal, startInstance } from './lib/instances.ts';
import { seedProbeOrganisation, signInAll } from './lib/organisation.ts';
import { defer, elapsedMinutes, finish, loadAtStart, loadNow, log, sleep, started } from './lib/run.ts';
import { StatusWriter } from './lib/writes.ts';
import type { Command, Counts } from './memory-worker.ts';
import { ask, freePort, machine, rssKb, signIn, spawnNode, startServer, writeSection } from './support.ts';

const STEPS = (process.env.MEMORY_SESSIONS ?? '10000,20000').split(',').map(Number);
const USERS = Number(process.env.MEMORY_USERS ?? 200);
const HOLD_MINUTES = Number(process.env.MEMORY_HOLD_MINUTES ?? 10);
const WRITES_PER_S = Number(process.env.MEMORY_WRITES_PER_S ?? 10);
const SERVERS = (process.env.MEMORY_SERVERS ?? 'ws,hono,embedded,redis').split(',');
const WORKERS = Number(process.env.MEMORY_WORKERS ?? 4);
/** The portal's entry: `src/main.ts` (tsx), or `dist/main.js` as in production (built first). */
const ENTRY = process.env.MEMORY_ENTRY ?? 'src/main.ts';
/** A second reading this long after the first, the sockets still idle: once the opening's garbage is returned. */
const SETTLE_S = Number(process.env.MEMORY_SETTLE_S ?? 60);
const SAMPLE_MS = 30_000;
const PASSWORD = 'bench-memory-password-2026';
const ADMIN = { username: 'chief', password: 'bench-memory-admin-password' };
/** File descriptors a portal process needs besides its sockets (database, Redis, listeners, stdio). */
const FD_RESERVE = 64;

const probeDir = mkdtempSync(join(tmpdir(), 'portal-bench-memory-'));
defer(() => rmSync(probeDir, { recursive: true, force: true }));
/** For the measured server only: the probe, and `gc()` for it. */
const probeEnv = {
  MEMORY_PROBE_DIR: probeDir,
  NODE_OPTIONS:
    `--expose-gc --import=${resolve('scripts/bench/memory-probe.mjs')} ${process.env.MEMORY_NODE_FLAGS ?? ''}`.trim(),
};

interface Heap {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** KiB committed per V8 space just before the forced GC. */
  spacesBefore?: Record<string, number>;
}

/** process.memoryUsage() of `pid` after a forced GC (scripts/bench/memory-probe.mjs). */
async function heapOf(pid: number): Promise<Heap> {
  const file = join(probeDir, `${pid}.json`);
  rmSync(file, { force: true });
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 600 && !existsSync(file); i++) await sleep(100);
  await sleep(100);
  return JSON.parse(readFileSync(file, 'utf8')) as Heap;
}

interface Step {
  sessions: number;
  failed: number;
  rssKb: number;
  perSessionKb: number;
  /** The same, SETTLE_S later with the sockets still idle (no forced GC). */
  settledPerSessionKb: number;
  /** Per session, after a forced GC, in bytes: growth of each figure over the empty process. */
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rssAfterGcKb: number;
  /** (RSS after a forced GC − the same with no sockets) / N, in KiB: what the sockets hold, without garbage. */
  perSessionAfterGcKb: number;
}

interface Measured {
  server: string;
  baseKb: number;
  steps: Step[];
  hold?: Hold;
}

interface Hold {
  minutes: number;
  sessions: number;
  writesPerS: number;
  writes: number;
  deltas: number;
  samples: { s: number; rssKb: number }[];
  heapStart: Heap;
  heapEnd: Heap;
  stillOpen: number;
  closed: Record<string, number>;
}

/** Opens sockets on `url` up to each step (spread over the generators), measuring after each. */
async function measureSteps(
  server: string,
  pid: number,
  url: string,
  tokens: string[],
  generators: LoadGenerators<Counts>,
  cap: number,
): Promise<Measured> {
  // The baseline settles as long as the settled reading does: start-up and the sign-ins of the
  // setup (argon2's memory) are returned over the first minute, and a baseline read before that
  // made the settled figure per socket negative (2026-12-04, 22:17 run).
  await sleep(Math.max(3000, SETTLE_S * 1000));
  const base = await heapOf(pid);
  await sleep(2000);
  const baseKb = rssKb(pid);
  log(`[${server}] pid ${pid}, RSS with no sockets ${f0(baseKb / 1024)} MB`);
  const steps: Step[] = [];
  let held = 0;
  for (const wanted of STEPS) {
    const target = Math.min(wanted, cap);
    const more = target - held;
    const share = Math.ceil(more / generators.count);
    const replies = await Promise.all(
      generators.processes.map((p, i) =>
        ask<{ opened: number; failed: number }>(p, {
          cmd: 'open',
          url,
          tokens,
          count: Math.max(0, Math.min(share, more - i * share)),
          offset: held + i * share,
          localAddress: `127.0.0.${2 + i}`,
        } satisfies Command),
      ),
    );
    const failed = sum(replies, (r) => r.failed);
    await sleep(3000);
    const counts = await generators.all<Counts>({ cmd: 'count' });
    held = sum(counts, (c) => c.open);
    const kb = rssKb(pid);
    let settledKb = kb;
    if (SETTLE_S > 0) {
      await sleep(SETTLE_S * 1000);
      settledKb = rssKb(pid);
      log(
        `[${server}] ${SETTLE_S} s later, still idle: RSS ${f0(settledKb / 1024)} MB, ${f1((settledKb - baseKb) / held)} KB per socket`,
      );
    }
    const heap = await heapOf(pid);
    const per = (key: 'heapUsed' | 'external' | 'arrayBuffers') => (heap[key] - base[key]) / held;
    steps.push({
      sessions: held,
      failed,
      rssKb: kb,
      perSessionKb: (kb - baseKb) / held,
      settledPerSessionKb: (settledKb - baseKb) / held,
      heapUsed: per('heapUsed'),
      external: per('external'),
      arrayBuffers: per('arrayBuffers'),
      rssAfterGcKb: heap.rss / 1024,
      perSessionAfterGcKb: (heap.rss - base.rss) / 1024 / held,
    });
    const spaces = heap.spacesBefore ?? {};
    log(
      `[${server}] V8 spaces committed before GC (MB): ${Object.entries(spaces)
        .map(([name, size]) => `${name} ${f1(size / 1024)}`)
        .join(', ')}; heapTotal after GC ${f0(heap.heapTotal / 1048576)} MB`,
    );
    log(
      `[${server}] ${held} open (${failed} failed): RSS ${f0(kb / 1024)} MB, ${f1((kb - baseKb) / held)} KB per socket; ` +
        `after GC ${f1((heap.rss - base.rss) / 1024 / held)} KB; heapUsed ${f0(per('heapUsed'))} B, external ${f0(per('external'))} B per socket`,
    );
  }
  return { server, baseKb, steps };
}

async function yardstick(kind: 'ws' | 'hono', generators: LoadGenerators<Counts>): Promise<Measured> {
  const port = await freePort();
  const child = spawnNode(
    ['scripts/bench/memory-server.ts'],
    { ...probeEnv, PORT: String(port), MEMORY_SERVER: kind },
    false,
  );
  defer(() => child.exitCode === null && child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`${kind} server exited ${code}`)));
  });
  const pid = nodePid(child);
  const cap = Number(openFilesLimit(pid)) - FD_RESERVE;
  const measured = await measureSteps(kind, pid, `ws://127.0.0.1:${port}`, [], generators, cap);
  await generators.all({ cmd: 'terminate' });
  child.kill('SIGKILL');
  return measured;
}

/** spawnNode runs bash, which `exec`s node: the same pid. */
function nodePid(child: ChildProcess) {
  return child.pid!;
}

async function embedded(generators: LoadGenerators<Counts>): Promise<Measured> {
  const port = await freePort();
  const child = await startServer(
    {
      ...probeEnv,
      DATABASE_URL: 'memory://',
      PORTAL_ADMIN_USERNAME: ADMIN.username,
      PORTAL_ADMIN_PASSWORD: ADMIN.password,
      REALTIME_MAX_SOCKETS_PER_USER: '1000',
      HEARTBEAT_INTERVAL_MS: '15000',
      LOG_LEVEL: 'error',
    },
    port,
    undefined,
    ENTRY,
  );
  defer(() => child.exitCode === null && child.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  const admin = await signIn(base, ADMIN.username, ADMIN.password);
  log(`[embedded] creating ${USERS} users…`);
  const accounts: { id: number; username: string; password: string }[] = [];
  for (let i = 0; i < USERS; i += 8) {
    await Promise.all(
      Array.from({ length: Math.min(8, USERS - i) }, async (_, j) => {
        const username = `member${i + j}`;
        const res = await fetch(`${base}/api/users`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: JSON.stringify({ username, password: PASSWORD, role: 'user' }),
        });
        if (res.status !== 201 && res.status !== 200) throw new Error(`create ${username}: ${res.status}`);
        const { id } = (await res.json()) as { id: number };
        accounts.push({ id, username, password: PASSWORD });
      }),
    );
  }
  const tokens = [...(await signInAll(accounts, () => base)).values()];
  const cap = Number(openFilesLimit(child.pid!)) - FD_RESERVE;
  const measured = await measureSteps(
    'embedded',
    child.pid!,
    `ws://127.0.0.1:${port}`,
    tokens,
    generators,
    cap,
  );
  await generators.all({ cmd: 'terminate' });
  child.kill('SIGKILL');
  return measured;
}

async function withRedis(generators: LoadGenerators<Counts>): Promise<Measured> {
  const fresh = await planPortal('memory', ADMIN, {
    ...probeEnv,
    REALTIME_MAX_SOCKETS_PER_USER: '1000',
    LOG_LEVEL: 'error',
  });
  const server = await startInstance(fresh.env, ENTRY);
  const { database, writer } = await connect(fresh.url, 8);
  log(`[redis] seeding ${USERS} users…`);
  const org = await seedProbeOrganisation(database, writer, {
    users: USERS,
    prefix: 'm',
    password: PASSWORD,
  });
  const tokenOf = await signInAll(
    org.plain.map((u) => ({ ...u, password: PASSWORD })),
    () => server.base,
  );
  const tokens = org.plain.map((u) => tokenOf.get(u.id)!);
  const cap = Number(openFilesLimit(server.pid)) - FD_RESERVE;
  const measured = await measureSteps('redis', server.pid, server.wsBase, tokens, generators, cap);

  if (HOLD_MINUTES > 0) {
    const held = measured.steps.at(-1)!.sessions;
    log(`[redis] hold: ${held} sessions for ${HOLD_MINUTES} min with ${WRITES_PER_S} writes/s`);
    const heapStart = await heapOf(server.pid);
    const statusWriter = new StatusWriter(
      writer,
      org.taskOf,
      org.plain.map((u) => u.id),
      7,
    );
    const run = statusWriter.start(WRITES_PER_S);
    const samples: Hold['samples'] = [];
    const t0 = Date.now();
    const end = t0 + HOLD_MINUTES * 60_000;
    for (let next = t0; next <= end; next += SAMPLE_MS) {
      await sleep(Math.max(0, next - Date.now()));
      samples.push({ s: Math.round((Date.now() - t0) / 1000), rssKb: rssKb(server.pid) });
      log(`[redis] hold ${samples.at(-1)!.s} s: RSS ${f0(samples.at(-1)!.rssKb / 1024)} MB`);
    }
    await run.stop();
    await sleep(2000);
    const heapEnd = await heapOf(server.pid);
    const counts = await generators.all<Counts>({ cmd: 'count' });
    const closed: Record<string, number> = {};
    for (const c of counts)
      for (const [code, n] of Object.entries(c.closed)) closed[code] = (closed[code] ?? 0) + n;
    measured.hold = {
      minutes: HOLD_MINUTES,
      sessions: held,
      writesPerS: WRITES_PER_S,
      writes: run.writes.length,
      deltas: sum(counts, (c) => c.deltas),
      samples,
      heapStart,
      heapEnd,
      stillOpen: sum(counts, (c) => c.open),
      closed,
    };
  }
  await generators.all({ cmd: 'terminate' });
  server.child.kill('SIGKILL');
  return measured;
}

const KIB = 1024;
const kib = (bytes: number) => f1(bytes / KIB);

function report(results: Measured[]): string {
  const yard = results.find((r) => r.server === 'ws');
  const label: Record<string, string> = {
    ws: 'bare `ws` (yardstick)',
    hono: 'Hono + @hono/node-ws, empty handler',
    embedded: 'portal, embedded (PGlite, no Redis)',
    redis: 'portal, PostgreSQL + Redis',
  };
  const lines = [
    `Command: \`npm run bench:memory\` (MEMORY_SESSIONS=${STEPS.join(',')}, MEMORY_USERS=${USERS}, MEMORY_HOLD_MINUTES=${HOLD_MINUTES}, MEMORY_WRITES_PER_S=${WRITES_PER_S}, MEMORY_ENTRY=${ENTRY}${process.env.MALLOC_ARENA_MAX ? `, MALLOC_ARENA_MAX=${process.env.MALLOC_ARENA_MAX}` : ''}) · ${utcMinute(started)} UTC · ${elapsedMinutes()} min`,
    '',
    `Machine: ${machine()}. Load average ${loadAtStart.join(' / ')} at start, ${loadNow().join(' / ')} at the end (2 cores shared with other sessions).`,
    '',
    `Setup: each server alone in its own process, one after the other; sockets held idle by ${WORKERS} load-generator processes (scripts/bench/memory-worker.ts, \`ws\` clients without permessage-deflate), each from its own source address 127.0.0.x. Portal: ${USERS} plain users, sessions spread evenly over them (REALTIME_MAX_SOCKETS_PER_USER=1000), heartbeat 15 s. Per session = (server RSS with N sockets − RSS of the same process with none, read after the same ${SETTLE_S} s idle as the settled reading) / N, read from \`/proc/<pid>/status\` 3 s after the last socket opened, no forced GC; "settled": the same, ${SETTLE_S} s later with the sockets still idle (V8 returns the opening's garbage over time). After a forced GC: the same difference, both RSS read right after \`gc()\` (what the sockets hold, without the garbage their opening left). heapUsed / external / arrayBuffers: growth per socket of \`process.memoryUsage()\` after a forced GC (scripts/bench/memory-probe.mjs). The open-files hard limit here is ${openFilesLimit(process.pid)} per process, so a step above it holds as many sockets as the limit allows.`,
    '',
    '| server | sessions | failed | RSS MB | RSS per session KiB | ratio to bare `ws` | settled: RSS per session KiB | ratio to bare `ws` | after a forced GC: RSS per session KiB | heapUsed per session B | external B | arrayBuffers B |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results)
    for (const [i, s] of r.steps.entries()) {
      const y = yard?.steps[i];
      lines.push(
        row([
          label[r.server] ?? r.server,
          f0(s.sessions),
          s.failed,
          f0(s.rssKb / 1024),
          `**${f1(s.perSessionKb)}**`,
          y ? `${(s.perSessionKb / y.perSessionKb).toFixed(2)}×` : '',
          `**${f1(s.settledPerSessionKb)}**`,
          y ? `${(s.settledPerSessionKb / y.settledPerSessionKb).toFixed(2)}×` : '',
          f1(s.perSessionAfterGcKb),
          f0(s.heapUsed),
          f0(s.external),
          f0(s.arrayBuffers),
        ]),
      );
    }
  const hold = results.find((r) => r.hold)?.hold;
  if (hold) {
    const rss = hold.samples.map((s) => s.rssKb);
    const first = rss[0]!;
    const last = rss.at(-1)!;
    const half = hold.samples.filter((s) => s.s >= (hold.minutes * 60) / 2);
    const secondHalf = half.map((s) => s.rssKb);
    lines.push(
      '',
      `**Hold**: ${f0(hold.sessions)} sessions on the PostgreSQL + Redis portal for ${hold.minutes} min with ${hold.writesPerS} status updates/s (plain SQL UPDATE, stride 7 over the users): ${f0(hold.writes)} writes, ${f0(hold.deltas)} deltas delivered to the clients, ${f0(hold.stillOpen)} sessions still open at the end (closed meanwhile: ${JSON.stringify(hold.closed)}). RSS sampled every 30 s:`,
      '',
      `| t s | ${hold.samples.map((s) => s.s).join(' | ')} |`,
      `| --- | ${hold.samples.map(() => '---:').join(' | ')} |`,
      `| RSS MB | ${rss.map((k) => f0(k / 1024)).join(' | ')} |`,
      '',
      `First sample ${f0(first / 1024)} MB, last ${f0(last / 1024)} MB (${last >= first ? '+' : ''}${f1((last - first) / 1024)} MB), max ${f0(Math.max(...rss) / 1024)} MB; second half min–max ${f0(Math.min(...secondHalf) / 1024)}–${f0(Math.max(...secondHalf) / 1024)} MB. After a forced GC, start → end: heapUsed ${f1(hold.heapStart.heapUsed / 2 ** 20)} → ${f1(hold.heapEnd.heapUsed / 2 ** 20)} MB, external ${f1(hold.heapStart.external / 2 ** 20)} → ${f1(hold.heapEnd.external / 2 ** 20)} MB, RSS ${f0(hold.heapStart.rss / 2 ** 20)} → ${f0(hold.heapEnd.rss / 2 ** 20)} MB.`,
    );
  }
  return lines.join('\n');
}

finish(async () => {
  log(`memory per session: ${SERVERS.join(', ')} at ${STEPS.join(', ')} sockets`);
  const generators = await LoadGenerators.start<Counts>('scripts/bench/memory-worker.ts', WORKERS);
  const results: Measured[] = [];
  for (const server of SERVERS) {
    if (server === 'ws' || server === 'hono') results.push(await yardstick(server, generators));
    else if (server === 'embedded') results.push(await embedded(generators));
    else if (server === 'redis') results.push(await withRedis(generators));
  }
  generators.close();
  const body = report(results);
  console.log(body);
  if (process.env.MEMORY_WRITE_DOCS !== '0') writeSection('bench-memory', body);
  log(
    `kib per session: ${results.map((r) => `${r.server} ${r.steps.map((s) => kib(s.perSessionKb * KIB)).join('/')}`).join(', ')}`,
  );
});
