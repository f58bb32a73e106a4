/**
 * `npm run bench:cluster`: capacity evidence for the scaled-out shape (issue 5). Three portal
 * processes (`src/main.ts`) behind one PostgreSQL database and one Redis; sessions spread across
 * them by load-generator processes (scripts/bench/cluster-worker.ts) that behave like the browser
 * client; a steady write load. Measures write-to-client latency against the number of sessions,
 * then kills one instance (SIGKILL, no drain) under the same write load and measures the
 * reconnect storm: how long until every dropped session is resumed and caught up, and whether
 * every session's document still matches the database. Writes its tables and a chart into
 * docs/benchmarks.md (section bench-cluster).
 *
 * Environment: BENCH_USERS (default 1000), BENCH_SESSIONS (default 600,1500,3000),
 * BENCH_RATE (writes/s, default 20), BENCH_SECONDS (per step, default 15), BENCH_INSTANCES (3),
 * BENCH_PG_URL, BENCH_REDIS_URL.
 */
import type { ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import pg from 'pg';
import { hashPassword } from '../../src/auth/passwords.js';
import { openDatabase } from '../../src/db/open.js';
import { TASK_STATUSES } from '../../src/db/schema/enums.js';
import { seedOrganisation } from '../../src/db/seed/organisation.js';
import type { Report, Session } from './cluster-worker.js';
import {
  ask,
  cpuMs,
  dropRedisPrefix,
  freePort,
  freshBenchDatabase,
  machine,
  pct,
  rssKb,
  runBench,
  signIn,
  spawnNode,
  startServer,
  writeSection,
} from './support.js';

const USERS = Number(process.env.BENCH_USERS ?? 1000);
const STEPS = (process.env.BENCH_SESSIONS ?? '600,1500,3000').split(',').map(Number);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 3);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WORKERS = 2;
const PASSWORD = 'bench-password-2026';
const ADMIN = { username: 'chief', password: 'bench-cluster-password-2026' };
const STATUSES = TASK_STATUSES;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const benchStart = now();
const log = (message: string) =>
  console.error(`[${((now() - benchStart) / 1000).toFixed(0).padStart(4)} s] ${message}`);
const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en') : 'n/a');
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const cleanup: (() => unknown)[] = [];

async function startInstance(
  env: Record<string, string>,
): Promise<{ base: string; metricsBase: string; child: ChildProcess }> {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = await startServer({ ...env, METRICS_PORT: String(metricsPort) }, port);
  cleanup.push(() => child.exitCode === null && child.kill('SIGKILL'));
  return { base: `http://127.0.0.1:${port}`, metricsBase: `http://127.0.0.1:${metricsPort}`, child };
}

/** Each user's task status as last written (every task starts as todo), and the next user to write. */
const written = new Map<number, number>();
let turn = 0;

/** Writes at a steady rate: each moves one user's only task to another status, stamped when sent. */
function writeLoad(pool: pg.Pool, taskOf: Map<number, number>, users: number[]) {
  const sent: { user: number; status: number; at: number }[] = [];
  let running = true;
  let failed = 0;
  const loop = (async () => {
    const interval = 1000 / RATE;
    let next = now();
    const inflight = new Set<Promise<unknown>>();
    while (running) {
      // A stride through the users, so one user is written at most once in a long while.
      const user = users[(turn++ * 7919) % users.length]!;
      const status = ((written.get(user) ?? 0) + 1) % STATUSES.length;
      written.set(user, status);
      const write = { user, status, at: now() };
      sent.push(write);
      const p = pool
        .query('update tasks set status = $1 where id = $2', [STATUSES[status], taskOf.get(user)])
        .catch(() => failed++)
        .finally(() => inflight.delete(p));
      inflight.add(p);
      next += interval;
      await sleep(Math.max(0, next - now()));
    }
    await Promise.all(inflight);
  })();
  return {
    sent,
    failed: () => failed,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Latency of each (user, status) delivery against the write that produced it. */
function latencies(
  sent: { user: number; status: number; at: number }[],
  reports: Report[],
  sessionsOf: Map<number, number>,
) {
  const writes = new Map<string, number>();
  for (const w of sent) writes.set(`${w.user}:${w.status}`, w.at);
  const values: number[] = [];
  for (const r of reports) {
    for (let i = 0; i < r.deliveries.length; i += 3) {
      const at = writes.get(`${r.deliveries[i]}:${r.deliveries[i + 1]}`);
      if (at !== undefined) values.push(r.deliveries[i + 2]! - at);
    }
  }
  const expected = sent.reduce((n, w) => n + (sessionsOf.get(w.user) ?? 0), 0);
  return { values, expected };
}

async function main() {
  const started = new Date();
  const loadAtStart = loadavg().map((l) => l.toFixed(1));
  const fresh = await freshBenchDatabase('cluster');
  cleanup.push(() => fresh.drop());
  const prefix = `bench-cl-${Date.now().toString(36)}`;
  const env = {
    DATABASE_URL: fresh.url,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: 'bench-cluster-secret-bench-cluster-secret',
    PORTAL_ADMIN_USERNAME: ADMIN.username,
    PORTAL_ADMIN_PASSWORD: ADMIN.password,
    PORTAL_DEMO: '0',
    LOG_LEVEL: 'warn',
    HEARTBEAT_INTERVAL_MS: '15000',
    SESSION_TTL_SECONDS: '300',
  };
  const servers = [await startInstance(env)];
  servers.push(...(await Promise.all(Array.from({ length: INSTANCES - 1 }, () => startInstance(env)))));
  const bases = servers.map((s) => s.base);
  const wsBases = bases.map((b) => b.replace('http', 'ws'));
  log(`${INSTANCES} instances: ${bases.join(', ')}`);

  const database = await openDatabase({ driver: 'pg', url: fresh.url });
  cleanup.push(() => database.close());
  const pool = new pg.Pool({ connectionString: fresh.url, max: 16, application_name: 'bench-writer' });
  cleanup.push(() => pool.end());

  log(`seeding ${USERS} users with one task each…`);
  const hash = await hashPassword(PASSWORD);
  const org = await seedOrganisation(database.db, {
    managers: 2,
    users: USERS,
    projects: 8,
    tasks: 0,
    prefix: 'c',
    passwordHash: async () => hash,
  });
  const plain = (
    await pool.query<{ id: number; username: string }>(
      `select id, username from users where role = 'user' order by id`,
    )
  ).rows;
  const probe = await pool.query<{ id: number; assignee_id: number }>(
    `insert into tasks (project_id, title, assignee_id)
     select ($1::int[])[1 + (i % cardinality($1::int[]))], 'Probe ' || i, u
       from unnest($2::int[]) with ordinality as t(u, i)
     returning id, assignee_id`,
    [org.projectIds, plain.map((u) => u.id)],
  );
  const taskOf = new Map(probe.rows.map((t) => [t.assignee_id, t.id]));

  log('signing in (spread over the instances)…');
  const tokens = new Map<number, string>();
  for (let i = 0; i < plain.length; i += 8) {
    await Promise.all(
      plain.slice(i, i + 8).map(async (u, j) => {
        tokens.set(u.id, await signIn(bases[(i + j) % bases.length]!, u.username, PASSWORD));
      }),
    );
  }

  const workers = Array.from({ length: WORKERS }, () =>
    spawnNode(['scripts/bench/cluster-worker.ts'], {}, true),
  );
  cleanup.push(() => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
  });
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  const reportAll = () => Promise.all(workers.map((w) => ask<Report>(w, { cmd: 'report' })));
  const markAll = () => Promise.all(workers.map((w) => ask(w, { cmd: 'mark' })));

  // --- 1. Latency against sessions, with a steady write load ----------------------------------------
  const sessionsOf = new Map<number, number>();
  const steps: {
    sessions: number;
    failed: number;
    rssMb: number[];
    p50: number;
    p95: number;
    p99: number;
    max: number;
    delivered: number;
    expected: number;
    writes: number;
  }[] = [];
  let held = 0;
  for (const target of STEPS) {
    const fresh: Session[] = Array.from({ length: target - held }, (_, i) => {
      const user = plain[(held + i) % plain.length]!.id;
      sessionsOf.set(user, (sessionsOf.get(user) ?? 0) + 1);
      return { user, token: tokens.get(user)! };
    });
    const share = Math.ceil(fresh.length / WORKERS);
    const replies = await Promise.all(
      workers.map((w, i) =>
        ask<{ opened: number; failed: number }>(w, {
          cmd: 'open',
          instances: wsBases,
          sessions: fresh.slice(i * share, (i + 1) * share),
          first: held + i * share,
        }),
      ),
    );
    held += replies.reduce((n, r) => n + r.opened, 0);
    const failed = replies.reduce((n, r) => n + r.failed, 0);
    await sleep(2000);
    await markAll();
    log(`holding ${held} sessions; ${RATE} writes/s for ${SECONDS} s…`);
    const load = writeLoad(
      pool,
      taskOf,
      plain.map((u) => u.id),
    );
    await sleep(SECONDS * 1000);
    await load.stop();
    await sleep(3000);
    const { values, expected } = latencies(load.sent, await reportAll(), sessionsOf);
    steps.push({
      sessions: held,
      failed,
      rssMb: servers.map((s) => rssKb(s.child.pid!) / 1024),
      p50: pct(values, 50),
      p95: pct(values, 95),
      p99: pct(values, 99),
      max: Math.max(...values),
      delivered: values.length,
      expected,
      writes: load.sent.length,
    });
    log(
      `  p50 ${f0(pct(values, 50))} ms, p99 ${f0(pct(values, 99))} ms, ${values.length}/${expected} delivered`,
    );
  }

  // --- 2. Reconnect storm: kill one instance under the same write load -------------------------------
  // Prometheus text is on each instance's internal metrics port.
  const leaders = await Promise.all(
    servers.map(
      async (s) =>
        /portal_realtime_leader (\d)/.exec(await (await fetch(`${s.metricsBase}/metrics`)).text())?.[1] ===
        '1',
    ),
  );
  const victim = 0;
  await markAll();
  const markedAt = now();
  const load = writeLoad(
    pool,
    taskOf,
    plain.map((u) => u.id),
  );
  await sleep(2000);
  log(`killing instance ${victim} (${leaders[victim] ? 'the leader' : 'a follower'}) with SIGKILL…`);
  const survivors = servers.filter((_, i) => i !== victim);
  const cpuBefore = survivors.map((s) => cpuMs(s.child.pid!));
  const workersCpuBefore = workers.map((w) => cpuMs(w.pid!));
  const killedAt = now();
  servers[victim]!.child.kill('SIGKILL');
  let reports: Report[] = [];
  let recoveredAll = Number.NaN;
  for (let waited = 0; waited < 60_000; waited += 250) {
    await sleep(250);
    reports = await reportAll();
    const dropped = reports.reduce((n, r) => n + r.dropped, 0);
    const recovered = reports.reduce((n, r) => n + r.recovered.length, 0);
    if (dropped > 0 && recovered >= dropped && reports.every((r) => r.open === r.states.length)) {
      recoveredAll = now() - killedAt;
      break;
    }
  }
  const stormCpu = survivors.map((s, i) => cpuMs(s.child.pid!) - cpuBefore[i]!);
  const workersCpu = workers.reduce((n, w, i) => n + cpuMs(w.pid!) - workersCpuBefore[i]!, 0);
  await sleep(3000);
  await load.stop();
  await sleep(3000);
  reports = await reportAll();
  // Workers time recoveries from their mark; the kill came a little later.
  const recoveredMs = reports.flatMap((r) => r.recovered).map((ms) => ms - (killedAt - markedAt));
  const dropped = reports.reduce((n, r) => n + r.dropped, 0);
  const notResumed = reports.reduce((n, r) => n + r.notResumed, 0);
  const gaps = reports.reduce((n, r) => n + r.gaps, 0);
  const stormLatency = latencies(load.sent, reports, sessionsOf);
  const truth = new Map(
    (
      await pool.query<{ assignee_id: number; status: string }>('select assignee_id, status from tasks')
    ).rows.map((t) => [t.assignee_id, t.status]),
  );
  const states = reports.flatMap((r) => r.states);
  const wrong = states.filter(([user, status]) => truth.get(user) !== status).length;
  const open = reports.reduce((n, r) => n + r.open, 0);
  const failedAttempts = reports.reduce((n, r) => n + r.failedAttempts, 0);
  const codes: Record<string, number> = {};
  for (const r of reports) for (const [c, n] of Object.entries(r.codes)) codes[c] = (codes[c] ?? 0) + n;
  log(`storm: close codes ${JSON.stringify(codes)}, ${failedAttempts} failed attempts`);
  log(
    `storm: CPU of the surviving instances ${stormCpu.map(f0).join(' / ')} ms, load generators ${f0(workersCpu)} ms`,
  );
  log(
    `storm: ${dropped} dropped, all back after ${f0(recoveredAll)} ms; ${wrong} documents differ from the database`,
  );

  // --- Report ---------------------------------------------------------------------------------------
  const chartMax = Math.ceil(Math.max(...steps.map((s) => s.p99), 1) / 50) * 50;
  const lines = [
    `Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC with \`npm run bench:cluster\` on ${machine()}; load average at start ${loadAtStart.join(' / ')}.`,
    `${INSTANCES} portal processes (src/main.ts) + PostgreSQL 15 + Redis 7 + ${WORKERS} load-generator processes, all on this one machine. ${USERS} users, one task each; sessions spread round-robin over the instances; ${RATE} writes/s (\`UPDATE tasks\` from a separate pool, clock started before the statement is sent) for ${SECONDS} s per step. Latency = write sent → delta received by the client.`,
    '',
    row([
      'sessions',
      'failed to open',
      'writes',
      'deliveries (got / expected)',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'RSS per instance MB',
    ]),
    row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---']),
    ...steps.map((s) =>
      row([
        f0(s.sessions),
        s.failed,
        s.writes,
        `${f0(s.delivered)} / ${f0(s.expected)}`,
        f0(s.p50),
        f0(s.p95),
        f0(s.p99),
        f0(s.max),
        s.rssMb.map((m) => f0(m)).join(' / '),
      ]),
    ),
    '',
    '```mermaid',
    'xychart-beta',
    '  title "Write-to-client latency against sessions (3 instances)"',
    `  x-axis "sessions" [${steps.map((s) => s.sessions).join(', ')}]`,
    `  y-axis "ms" 0 --> ${chartMax}`,
    `  line [${steps.map((s) => Math.round(s.p50)).join(', ')}]`,
    `  line [${steps.map((s) => Math.round(s.p99)).join(', ')}]`,
    '```',
    '',
    '(lower line p50, upper line p99)',
    '',
    `**Reconnect storm.** With ${f0(open)} sessions open and ${RATE} writes/s continuing, instance ${victim} (${leaders[victim] ? 'the realtime leader' : 'a follower'}) was killed with SIGKILL (no drain). The clients reconnect like the browser client behind a load balancer: after a backoff with full jitter (250 ms doubling to 5 s), to another instance picked at random, resuming with session id and last seq. CPU spent during the storm: surviving instances ${stormCpu.map((ms) => `${f0(ms)} ms`).join(' and ')}, load generators ${f0(workersCpu)} ms.`,
    '',
    row([
      'sessions dropped',
      'every one resumed and caught up after',
      'p50 / p95 / p99 / max per session ms',
      'resumes answered resumed:false',
      'seq gaps',
      'deltas during the storm (got / expected)',
      'documents ≠ database at the end',
      'open at the end',
    ]),
    row(['---:', '---:', '---', '---:', '---:', '---:', '---:', '---:']),
    row([
      f0(dropped),
      `${f0(recoveredAll)} ms`,
      [50, 95, 99, 100].map((p) => f0(pct(recoveredMs, p))).join(' / '),
      notResumed,
      gaps,
      `${f0(stormLatency.values.length)} / ${f0(stormLatency.expected)}`,
      `${wrong} of ${f0(states.length)}`,
      f0(open),
    ]),
    '',
    'Deliveries during the storm count what reached a session live or through its replay on resume; a delta replayed from history carries the same (user, status) and counts once per session. "Documents ≠ database" compares, for every session, the status its own merge-patched document shows with the task in PostgreSQL after the writes stopped: 0 means nothing was lost.',
  ];
  const markdown = lines.join('\n');
  console.log(markdown);
  writeSection('bench-cluster', markdown);

  for (const w of workers) w.send({ cmd: 'close' });
  await dropRedisPrefix(REDIS_URL, prefix);
}

await runBench(main, cleanup);
