/**
 * `npm run bench:realtime`: what one instance holds and how fast changes reach clients.
 * Real PostgreSQL, real Redis, the server in its own process, sessions held by separate
 * load-generator processes. Prints markdown and writes it into docs/benchmarks.md.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import pino from 'pino';
import { query } from '../src/db/database.js';
import { openDatabase } from '../src/db/open.js';
import { tasks } from '../src/db/schema/tasks.js';
import { users } from '../src/db/schema/users.js';
import { seedOrganisation } from '../src/db/seed/organisation.js';
import { hashPassword } from '../src/domain/auth/passwords.js';
import { computeDashboard } from '../src/domain/metrics.js';
import { Engine } from '../src/realtime/engine.js';
import type { ChangeRow } from '../src/realtime/feed.js';
import { realtimeKeys } from '../src/realtime/keys.js';
import { MemoryBus, MemoryStore } from '../src/realtime/memory.js';
import { freshBenchDatabase, machine, stopServer, writeSection } from './support.js';

const USERS = Number(process.env.BENCH_USERS ?? 200);
const STEPS = (process.env.BENCH_SESSIONS ?? '1000,5000,10000').split(',').map(Number);
const WORKERS = 2;
const PASSWORD = 'bench-password-2026';
const PORT = 4611;
const BASE = `http://127.0.0.1:${PORT}`;
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Node with a raised file-descriptor limit (10,000 sockets need more than the default 1,024). */
function node(args: string[], env: Record<string, string> = {}, ipc = false): ChildProcess {
  const command = `ulimit -n 65536 2>/dev/null || ulimit -n 16384; exec "${process.execPath}" --import tsx ${args.join(' ')}`;
  return spawn('bash', ['-c', command], {
    env: { ...process.env, ...env },
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
}

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
    : Number.NaN;
};
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');

function ask<T>(worker: ChildProcess, message: object): Promise<T> {
  return new Promise((resolve) => {
    worker.once('message', (reply) => resolve(reply as T));
    worker.send(message);
  });
}

const started = new Date();
const fresh = await freshBenchDatabase('realtime');
const database = await openDatabase({ driver: 'pg', url: fresh.url });
const hash = await hashPassword(PASSWORD);
console.error(`seeding ${USERS} users with one task each…`);
const org = await seedOrganisation(database.db, {
  managers: 1,
  users: USERS,
  projects: 4,
  tasks: 0,
  passwordHash: async () => hash,
});
const userRows = await database.db
  .select({ id: users.id, username: users.username, role: users.role })
  .from(users);
const plain = userRows.filter((u) => u.role === 'user');
for (const [i, u] of plain.entries()) {
  await database.db.insert(tasks).values({
    project_id: org.projectIds[i % org.projectIds.length]!,
    title: `Bench ${i}`,
    assignee_id: u.id,
  });
}
const taskOf = new Map(
  (await query<{ id: number; assignee_id: number }>(database.db, sql`select id, assignee_id from tasks`)).map(
    (t) => [t.assignee_id, t.id],
  ),
);

const prefix = `bench${Date.now().toString(36)}`;
const server = node(['src/main.ts'], {
  DATABASE_URL: fresh.url,
  REDIS_URL: 'redis://127.0.0.1:6379',
  REDIS_PREFIX: prefix,
  JWT_SECRET: 'bench-secret-bench-secret-bench-secret-000',
  PORT: String(PORT),
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  PORTAL_DEMO: '0',
  HEARTBEAT_INTERVAL_MS: '15000',
});
let serverPid = 0;
for (let i = 0; i < 300; i++) {
  try {
    if ((await fetch(`${BASE}/healthz`)).ok) break;
  } catch {}
  await sleep(100);
}
serverPid = Number(
  readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, 'utf8').trim().split(/\s+/)[0] ||
    server.pid,
);

console.error('signing in…');
const tokens = new Map<number, string>();
for (let i = 0; i < plain.length; i += 8) {
  await Promise.all(
    plain.slice(i, i + 8).map(async (u) => {
      const res = await fetch(`${BASE}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: u.username, password: PASSWORD }),
      });
      tokens.set(u.id, ((await res.json()) as { token: string }).token);
    }),
  );
}

const workers = Array.from({ length: WORKERS }, () => node(['bench/realtime-worker.ts'], {}, true));
await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));

// 1. Sessions held and memory per session.
const memory: { sessions: number; rssMb: number; perSessionKb: number }[] = [];
const baseline = rssKb(serverPid);
let held = 0;
for (const target of STEPS) {
  const sessions = Array.from({ length: target - held }, (_, i) => {
    const user = plain[(held + i) % plain.length]!.id;
    return { user, token: tokens.get(user)! };
  });
  const share = Math.ceil(sessions.length / WORKERS);
  const replies = await Promise.all(
    workers.map((w, i) =>
      ask<{ opened: number; failed: number }>(w, {
        cmd: 'open',
        wsBase: `ws://127.0.0.1:${PORT}`,
        sessions: sessions.slice(i * share, (i + 1) * share),
      }),
    ),
  );
  held += replies.reduce((n, r) => n + r.opened, 0);
  await sleep(2000);
  const rss = rssKb(serverPid);
  memory.push({
    sessions: held,
    rssMb: Math.round(rss / 1024),
    perSessionKb: Math.round(((rss - baseline) / held) * 10) / 10,
  });
  console.error(`holding ${held} sessions, server RSS ${Math.round(rss / 1024)} MB`);
}

// 2. Write-to-client latency at several write rates, with every session open.
const writer = new pg.Pool({ connectionString: fresh.url, max: 8 });
const latency: {
  rate: number;
  writes: number;
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}[] = [];
let flip = 0;
const statusOf = new Map<number, string>();
for (const rate of [1, 10, 200]) {
  await Promise.all(workers.map((w) => ask(w, { cmd: 'reset' })));
  const seconds = rate === 200 ? 5 : 10;
  const sent = new Map<number, number[]>();
  const total = rate * seconds;
  const t0 = now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 0) await sleep(wait);
    const user = plain[(flip++ * 7) % plain.length]!.id;
    // Toggle this user's task, so every write changes their document.
    const status = statusOf.get(user) === 'done' ? 'todo' : 'done';
    statusOf.set(user, status);
    (sent.get(user) ?? sent.set(user, []).get(user)!).push(now());
    pending.push(writer.query('update tasks set status = $1 where id = $2', [status, taskOf.get(user)]));
  }
  await Promise.all(pending);
  await sleep(3000);
  const reports = await Promise.all(
    workers.map((w) =>
      ask<{ deltas: Record<string, { user: number; times: number[] }> }>(w, { cmd: 'report' }),
    ),
  );
  const samples: number[] = [];
  for (const report of reports) {
    for (const { user, times } of Object.values(report.deltas)) {
      const writes = sent.get(user) ?? [];
      // Writes to one user are far apart at these rates: a session's k-th delta answers the k-th write.
      for (const [k, t] of times.entries()) if (writes[k] !== undefined) samples.push(t - writes[k]!);
    }
  }
  latency.push({
    rate,
    writes: total,
    samples: samples.length,
    p50: pct(samples, 50),
    p95: pct(samples, 95),
    p99: pct(samples, 99),
    max: pct(samples, 100),
  });
  console.error(
    `${rate} writes/s: p50 ${ms(pct(samples, 50))} ms, p99 ${ms(pct(samples, 99))} ms over ${samples.length} deliveries`,
  );
}

// 3. Frame sizes seen by clients, and an admin's snapshot for scale.
const sizes = await Promise.all(
  workers.map((w) =>
    ask<{ deltaBytes: number[]; snapshotBytes: number[]; open: number }>(w, { cmd: 'report' }),
  ),
);
const deltaBytes = sizes.flatMap((s) => s.deltaBytes);
const stillOpen = sizes.reduce((n, s) => n + s.open, 0);
const userDoc = await computeDashboard(database.db, plain[0]!.id);
const adminId = (
  await query<{ id: number }>(database.db, sql`select id from users where role = 'manager' limit 1`)
)[0]!.id;
await database.db.update(users).set({ role: 'admin' }).where(sql`id = ${adminId}`);
const adminDoc = await computeDashboard(database.db, adminId);

// 4. SQL statements per change batch: the leader's engine on this database, counted by the driver.
const keys = realtimeKeys('benchbatch');
const store = new MemoryStore(new MemoryBus(), keys.userChannel);
const engine = new Engine(database, store, pino({ level: 'silent' }), { coalesceMs: 1, sweepMs: 60_000 });
const batchRows: { affected: number; statements: number }[] = [];
for (const n of [1, 10, plain.length]) {
  const ids = plain.slice(0, n).map((u) => u.id);
  await store.watch(ids, Date.now() + 60_000);
  await engine.publish([], false); // first documents
  const rows: ChangeRow[] = ids.map((id, i) => ({
    id: i,
    tx_id: 1,
    table_name: 'tasks',
    op: 'update',
    row_id: i,
    affected_user_ids: [id],
    before: null,
    after: null,
  }));
  await engine.publish(rows, false);
  batchRows.push({ affected: n, statements: engine.stats.lastBatchStatements });
}

// 5. The naive alternative: every connected user polls 3 count queries every 2 s.
const pollUser = plain[0]!.id;
const pollQueries = [
  `select count(*) from tasks where assignee_id = ${pollUser} and status = 'done'`,
  `select count(*) from tasks where assignee_id = ${pollUser} and status <> 'done'`,
  `select count(*) from tasks where assignee_id = ${pollUser} and due_date < current_date and status <> 'done'`,
];
const pollStart = now();
let polled = 0;
const pollers = Array.from({ length: 8 }, async () => {
  while (now() - pollStart < 5000) {
    for (const q of pollQueries) await writer.query(q);
    polled += 3;
  }
});
await Promise.all(pollers);
const pollSeconds = (now() - pollStart) / 1000;
const maxQps = polled / pollSeconds;

const mean = (xs: number[]) => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : 0);
const lines = [
  `Command: \`npm run bench:realtime\` · ${started.toISOString().slice(0, 10)} · ${machine()}`,
  `One server process (PostgreSQL 15 + Redis 7 on the same machine), ${USERS} users with one task each, sessions held by ${WORKERS} load-generator processes on the same 2 cores.`,
  '',
  '**Sessions held by one instance**',
  '',
  '| sessions | server RSS MB | RSS per session (KB, above idle) |',
  '| ---: | ---: | ---: |',
  ...memory.map((m) => `| ${m.sessions} | ${m.rssMb} | ${m.perSessionKb} |`),
  '',
  `**Write-to-client latency** with ${held} sessions open (${held / USERS} per user). Clock starts just before the UPDATE is sent (so it includes the commit), stops when the delta frame arrives in a client process; every session of the user counts.`,
  '',
  '| writes/s | writes | deliveries | p50 ms | p95 ms | p99 ms | max ms |',
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...latency.map(
    (l) =>
      `| ${l.rate} | ${l.writes} | ${l.samples} | ${ms(l.p50)} | ${ms(l.p95)} | ${ms(l.p99)} | ${ms(l.max)} |`,
  ),
  '',
  `Sessions still open at the end: ${stillOpen} of ${held}.`,
  '',
  '**SQL statements per change batch** (the leader: change-log read + dashboards, counted by the driver; BEGIN/COMMIT included)',
  '',
  '| users affected | statements |',
  '| ---: | ---: |',
  ...batchRows.map((b) => `| ${b.affected} | ${b.statements} |`),
  '',
  '**Bytes on the wire**',
  '',
  `| frame | bytes |`,
  '| --- | ---: |',
  `| delta (mean of ${deltaBytes.length}) | ${mean(deltaBytes)} |`,
  `| snapshot, user document | ${JSON.stringify({ type: 'snapshot', seq: 1, data: userDoc }).length} |`,
  `| snapshot, admin document (${Object.keys(adminDoc?.projects ?? {}).length} projects) | ${JSON.stringify({ type: 'snapshot', seq: 1, data: adminDoc }).length} |`,
  '',
  '**Against naive polling** (3 count queries per connected user every 2 s = 1.5 queries/s per session). Measured: this database answered at most',
  `${Math.round(maxQps)} such queries/s with 8 connections flat out (${polled} queries in ${pollSeconds.toFixed(1)} s). Needed (extrapolated linearly from 1.5 q/s per session):`,
  '',
  '| sessions | polling: queries/s needed | share of measured max | push design: queries/s when idle |',
  '| ---: | ---: | ---: | ---: |',
  ...STEPS.map(
    (s) => `| ${s} | ${s * 1.5} | ${Math.round(((s * 1.5) / maxQps) * 100)}% | 1 per sweep (0.03/s) |`,
  ),
];
const markdown = lines.join('\n');
console.log(markdown);
writeSection('bench-realtime', markdown);

for (const w of workers) w.send({ cmd: 'close' });
await writer.end();
await stopServer(server);
await database.close();
await fresh.drop();
process.exit(0);
