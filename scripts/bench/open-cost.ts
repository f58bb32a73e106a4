/**
 * `npm run bench:open-cost` (issue 12, goal 4): what one socket open costs one portal instance.
 * One instance on PostgreSQL + Redis, OPEN_USERS users signed in, then OPEN_SOCKETS sockets
 * (socket i signed in as user i mod OPEN_USERS) opened all at once from a client process of
 * their own, each until its snapshot, refused ones retrying as the protocol module says
 * (`refusedDelayMs`). Measured: opens per second of wall time, and the instance's CPU time
 * (user + system, /proc) per open. The yardstick, in the same run: a bare `ws` server
 * (open-cost-yardstick.ts) that sends a hello and a snapshot on every upgrade, opened the same
 * way by the same client.
 *
 * OPEN_BASELINE=<another checkout's root> also measures that checkout's instance in the same run
 * (before/after; it must share this checkout's migrations). OPEN_PROFILE=<dir> runs the instances
 * with `--cpu-prof` into that directory (written when they exit), OPEN_ROUNDS repeats the storms.
 */
import { resolve } from 'node:path';
import { ADMIN } from '../../test/support/cluster.ts';
import { connect } from './lib/database.ts';
import { f0 } from './lib/format.ts';
import { planPortal } from './lib/instances.ts';
import { seedProbeOrganisation, signInAll } from './lib/organisation.ts';
import { defer, finish, loadAtStart, loadNow, log, sleep } from './lib/run.ts';
import { type StormResult, stormProcess } from './lib/storm.ts';
import { cpuMs, freePort, machine, spawnNode, startServer, stopServer } from './support.ts';

const USERS = Number(process.env.OPEN_USERS ?? 400);
const SOCKETS = Number(process.env.OPEN_SOCKETS ?? 3000);
const ROUNDS = Number(process.env.OPEN_ROUNDS ?? 1);
const BASELINE = process.env.OPEN_BASELINE;
const PROFILE = process.env.OPEN_PROFILE;
const PASSWORD = 'bench-password-2026';

interface Target {
  name: string;
  pid: number;
  ws: string;
  stop(): Promise<void>;
}

async function portal(name: string, env: Record<string, string>, cwd?: string): Promise<Target> {
  const port = await freePort();
  // Node flags before the entry (NODE_OPTIONS may not carry --cpu-prof).
  const entry = PROFILE ? `--cpu-prof --cpu-prof-dir=${resolve(PROFILE, name)} src/main.ts` : 'src/main.ts';
  const child = await startServer(env, port, cwd, entry);
  defer(() => child.exitCode === null && child.kill('SIGKILL'));
  return { name, pid: child.pid!, ws: `ws://127.0.0.1:${port}`, stop: () => stopServer(child) };
}

async function yardstick(): Promise<Target> {
  const port = await freePort();
  const child = spawnNode(['scripts/bench/open-cost-yardstick.ts'], { PORT: String(port) }, true);
  defer(() => child.exitCode === null && child.kill('SIGKILL'));
  await new Promise((r) => child.once('message', r));
  return {
    name: 'bare ws (yardstick)',
    pid: child.pid!,
    ws: `ws://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
    },
  };
}

interface Measured {
  target: string;
  round: number;
  result: StormResult;
  cpuMs: number;
  load: string[];
}

async function storm(target: Target, tokens: string[], round: number): Promise<Measured> {
  const before = cpuMs(target.pid);
  const result = await stormProcess({
    urls: [target.ws],
    token: tokens[0]!,
    tokens,
    total: SOCKETS,
    rate: 0,
    timeoutMs: 300_000,
  });
  const cpu = cpuMs(target.pid) - before;
  const m = { target: target.name, round, result, cpuMs: cpu, load: loadNow() };
  log(
    `${target.name}: ${result.snapshot}/${SOCKETS} snapshots in ${result.elapsedMs} ms (${f0((result.snapshot * 1000) / result.elapsedMs)}/s), p50 ${result.p50Ms} p99 ${result.p99Ms} ms, ${result.refusals} refusals, CPU ${f0(cpu)} ms = ${(cpu / SOCKETS).toFixed(2)} ms per open; load ${m.load.join(' / ')}`,
  );
  // The storm client closed its sockets: let the instance forget them before the next storm.
  await sleep(3000);
  return m;
}

async function main() {
  const fresh = await planPortal('opencost', ADMIN, {
    REALTIME_MAX_SOCKETS_PER_USER: '10000',
    LOG_LEVEL: 'error',
  });
  const ours = await portal('ours', fresh.env);
  const baseline = BASELINE ? await portal('baseline', fresh.env, BASELINE) : undefined;
  const bare = await yardstick();
  const { database, writer } = await connect(fresh.url, 4);
  log(`seeding ${USERS} users…`);
  const org = await seedProbeOrganisation(database, writer, {
    users: USERS,
    prefix: 'o',
    password: PASSWORD,
  });
  log('signing in…');
  const signedIn = await signInAll(
    org.plain.map((u) => ({ ...u, password: PASSWORD })),
    () => ours.ws.replace('ws:', 'http:'),
  );
  const tokens = [...signedIn.values()];
  const rows: Measured[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    rows.push(await storm(bare, tokens, round));
    if (baseline) rows.push(await storm(baseline, tokens, round));
    rows.push(await storm(ours, tokens, round));
  }
  await Promise.all([ours.stop(), baseline?.stop(), bare.stop()]);
  const yard = rows.filter((r) => r.target === bare.name);
  const perOpen = (r: Measured) => r.cpuMs / SOCKETS;
  const yardPerOpen = yard.reduce((s, r) => s + perOpen(r), 0) / yard.length;
  console.log(
    `Run on ${machine()}; load average at start ${loadAtStart.join(' / ')}. One instance on PostgreSQL + Redis, ${USERS} users, ${SOCKETS} sockets opened at once (\`OPEN_USERS=${USERS} OPEN_SOCKETS=${SOCKETS} npm run bench:open-cost\`).\n`,
  );
  console.log(
    '| target | round | snapshots | wall ms | opens/s | p50 / p99 ms | 503 refusals | CPU ms per open | ÷ bare ws | load after |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |');
  for (const r of rows)
    console.log(
      `| ${r.target} | ${r.round} | ${r.result.snapshot} | ${r.result.elapsedMs} | ${f0((r.result.snapshot * 1000) / r.result.elapsedMs)} | ${r.result.p50Ms} / ${r.result.p99Ms} | ${r.result.refusals} | ${perOpen(r).toFixed(2)} | ${(perOpen(r) / yardPerOpen).toFixed(1)} | ${r.load.join(' / ')} |`,
    );
}

await finish(main);
