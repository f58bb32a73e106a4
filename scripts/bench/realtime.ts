/**
 * `npm run bench:realtime`: what one instance costs per realtime session and per write. One portal
 * process (`src/main.ts`) on real PostgreSQL and Redis, sessions held by load-generator processes
 * (scripts/bench/realtime-worker.ts). The scenarios run in order on the same sessions: memory per
 * session, database traffic when idle, write-to-client latency at 1, 10 and 200 writes/s, SQL
 * statements per change batch, and naive polling for comparison. Writes its tables into
 * docs/benchmarks.md (section bench-realtime).
 *
 * Environment: BENCH_USERS (default 200), BENCH_SESSIONS (default 1000,5000,10000), BENCH_PG_URL,
 * BENCH_REDIS_URL.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import pino from 'pino';
import type { Database } from '../../src/db/database.ts';
import { Engine } from '../../src/realtime/engine.ts';
import type { ChangeRow } from '../../src/realtime/feed.ts';
import { realtimeKeys } from '../../src/realtime/keys.ts';
import { MemoryBus, MemoryStore } from '../../src/realtime/memory.ts';
import type { RealtimeBench } from './lib/bench.ts';
import { connect } from './lib/database.ts';
import { f0, f1, mean, row, sum, utcMinute } from './lib/format.ts';
import { HeldSessions, LoadGenerators } from './lib/generators.ts';
import {
  type Instance,
  openFilesLimit,
  planPortal,
  REDIS_URL,
  startInstance,
  stopInstance,
} from './lib/instances.ts';
import { type Person, seedProbeOrganisation, signInAll } from './lib/organisation.ts';
import { defer, elapsedMinutes, finish, loadAtStart, loadNow, log, now, sleep, started } from './lib/run.ts';
import { StatusWriter, type Write } from './lib/writes.ts';
import type { Command, Report, Session } from './realtime-worker.ts';
import { ask, cpuMs, dropRedisPrefix, machine, PG_ADMIN_URL, pct, rssKb, writeSection } from './support.ts';

const USERS = Number(process.env.BENCH_USERS ?? 200);
const STEPS = (process.env.BENCH_SESSIONS ?? '1000,5000,10000').split(',').map(Number);
const WORKERS = 2;
const BACKGROUND_TASKS = 2000;
const PASSWORD = 'bench-password-2026';
const ADMIN = { username: 'chief', password: 'bench-realtime-password-2026' };
/** PostgreSQL 15 may hold a backend's statistics back up to 10 s (PGSTAT_IDLE_INTERVAL). */
const STATS_SETTLE_MS = 10_500;

/** What every scenario works with. */
interface Bench extends RealtimeBench<Report> {
  url: string;
  datname: string;
  server: Instance;
  fdLimit: string | undefined;
  /** On another database, so that reading the statistics does not count in them. */
  stats: pg.Client;
  database: Database;
  admin: Person;
  manager: Person;
}

// --- Set-up: the database, the server, the data, the load generators ---------------------------------
async function setUp(): Promise<Bench> {
  // No safety sweep during the run: every change-log read counted below answers a write.
  const fresh = await planPortal('realtime', ADMIN, { REALTIME_SWEEP_MS: '600000' });
  const { redisPrefix } = fresh;
  const server = await startInstance(fresh.env);
  const fdLimit = openFilesLimit(server.pid);
  log(`server pid ${server.pid} on ${server.base} (open files limit ${fdLimit})`);

  // Enough connections that 200 writes/s do not queue in the pool (commits wait for the WAL flush).
  const { database, writer } = await connect(fresh.url, 24);
  const stats = new pg.Client({ connectionString: PG_ADMIN_URL, application_name: 'bench-stats' });
  await stats.connect();
  defer(() => stats.end());

  log(`seeding ${USERS} users with one task each, 2 managers with ${BACKGROUND_TASKS} tasks…`);
  const org = await seedProbeOrganisation(database, writer, {
    users: USERS,
    prefix: 'b',
    password: PASSWORD,
  });
  const managers = org.people.filter((u) => u.role === 'manager');
  await writer.query(
    `insert into tasks (project_id, title, status, assignee_id, due_date)
     select ($1::int[])[1 + g % cardinality($1::int[])], 'Background ' || g,
            (array['todo','in_progress','blocked','done'])[1 + g % 4]::task_status,
            ($2::int[])[1 + g % cardinality($2::int[])], current_date + (g % 40 - 20)
       from generate_series(1, $3::int) g`,
    [org.projectIds, managers.map((u) => u.id), BACKGROUND_TASKS],
  );
  const admin = org.people.find((u) => u.role === 'admin')!;
  const manager = managers[0]!;

  log('signing in…');
  const tokens = await signInAll(
    [
      { ...admin, password: ADMIN.password },
      { ...manager, password: PASSWORD },
      ...org.plain.map((u) => ({ ...u, password: PASSWORD })),
    ],
    () => server.base,
  );
  const generators = await LoadGenerators.start<Report>('scripts/bench/realtime-worker.ts', WORKERS);
  // Stride 7 through the users: writes to one user are USERS / rate seconds apart.
  const statusWriter = new StatusWriter(
    writer,
    org.taskOf,
    org.plain.map((u) => u.id),
    7,
  );
  return {
    url: fresh.url,
    datname: fresh.name,
    server,
    redisPrefix,
    fdLimit,
    writer,
    stats,
    database,
    org,
    admin,
    manager,
    tokens,
    generators,
    sessions: new HeldSessions(),
    statusWriter,
  };
}

// --- 1. Sessions held by one instance, and its memory per session --------------------------------------
async function holdSessions(b: Bench) {
  const session = (user: number, kind: Session['kind']): Session => ({
    user,
    token: b.tokens.get(user)!,
    kind,
  });
  await ask(b.generators.processes[0]!, {
    cmd: 'open',
    wsBase: b.server.wsBase,
    sessions: [session(b.admin.id, 'admin'), session(b.manager.id, 'manager')],
  } satisfies Command);
  await sleep(3000);
  const baselineKb = rssKb(b.server.pid);
  log(`server RSS with 2 sessions (admin, manager): ${Math.round(baselineKb / 1024)} MB`);
  const steps: { sessions: number; failed: number; rssMb: number; perSessionKb: number; openPerS: number }[] =
    [];
  for (const target of STEPS) {
    const fresh = b.sessions.plan(target, b.org.plain, (user) => session(user, 'user'));
    const t = now();
    const { opened, failed } = await b.generators.open(
      fresh,
      (share) => ({ cmd: 'open', wsBase: b.server.wsBase, sessions: share }) satisfies Command,
    );
    const seconds = (now() - t) / 1000;
    b.sessions.held += opened;
    await sleep(3000);
    const rss = rssKb(b.server.pid);
    steps.push({
      sessions: b.sessions.held,
      failed,
      rssMb: rss / 1024,
      perSessionKb: (rss - baselineKb) / b.sessions.held,
      openPerS: opened / seconds,
    });
    log(`holding ${b.sessions.held} sessions (${failed} failed), server RSS ${Math.round(rss / 1024)} MB`);
  }
  return { baselineKb, steps };
}

// --- Counters: transactions on the benchmark database, CPU time of the processes involved ----------------
/** Committed and rolled-back transactions on the benchmark database so far. */
async function xacts(b: Bench) {
  await b.stats.query('select pg_stat_clear_snapshot()');
  const { rows } = await b.stats.query<{ n: string }>(
    'select (xact_commit + xact_rollback)::text as n from pg_stat_database where datname = $1',
    [b.datname],
  );
  return Number(rows[0]!.n);
}

/** PostgreSQL backends of the benchmark database whose application_name matches. */
async function backendsOf(b: Bench, pattern: string) {
  const { rows } = await b.stats.query<{ pid: number }>(
    `select pid from pg_stat_activity where datname = $1 and application_name like $2`,
    [b.datname, pattern],
  );
  return rows.map((r) => r.pid);
}

/** Busy and total jiffies of the whole machine (every process, other users' included). */
function machineJiffies() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const n = fields.map(Number);
  const total = n.reduce((a, c) => a + c, 0);
  return { busy: total - n[3]! - n[4]!, total };
}

/** CPU ms of the server process, its PostgreSQL backends, the writers' backends and the load generators. */
async function cpuSnapshot(b: Bench) {
  const each = (pids: number[]) => new Map(pids.map((p) => [p, cpuMs(p)]));
  return {
    server: cpuMs(b.server.pid),
    backends: each(await backendsOf(b, 'portal%')),
    writers: each(await backendsOf(b, 'bench-writer')),
    workers: b.generators.cpuMs(),
    machine: machineJiffies(),
  };
}

/** Backends alive at the second read count from their first (new ones from their start). */
async function cpuSince(b: Bench, before: Awaited<ReturnType<typeof cpuSnapshot>>) {
  const after = await cpuSnapshot(b);
  const delta = (a: Map<number, number>, c: Map<number, number>) => {
    let ms = 0;
    for (const [pid, v] of a) ms += v - (c.get(pid) ?? 0);
    return ms;
  };
  return {
    server: after.server - before.server,
    backends: delta(after.backends, before.backends),
    writers: delta(after.writers, before.writers),
    workers: after.workers - before.workers,
    machineBusy: (after.machine.busy - before.machine.busy) / (after.machine.total - before.machine.total),
  };
}

// --- 2. Database traffic with every session open and nothing written ------------------------------------
async function idleWindow(b: Bench) {
  log('idle window with every session open…');
  await sleep(STATS_SETTLE_MS);
  const x0 = await xacts(b);
  const cpu0 = await cpuSnapshot(b);
  const t0 = now();
  await sleep(10_000);
  const x1 = await xacts(b);
  const seconds = (now() - t0) / 1000;
  return { xacts: x1 - x0, seconds, ...(await cpuSince(b, cpu0)) };
}

// --- 3. Write-to-client latency ----------------------------------------------------------------------------
interface Run {
  rate: number;
  writes: number;
  expected: number;
  samples: number[];
  /** Delivery time minus the time the UPDATE's commit was acknowledged to the writer. */
  afterAck: number[];
  firsts: number[];
  commits: number[];
  unmatched: number;
  xactsPerWrite?: number;
  cpu?: Awaited<ReturnType<typeof cpuSince>> & { seconds: number };
}

/**
 * Matches deliveries to writes: a delta reports the status it brings; it answers the latest write
 * of that status to that user sent before it arrived (statuses cycle through four values, writes
 * to a user are ≥ 1 s apart).
 */
function match(writes: Write[], reports: Report[]) {
  const byUser = new Map<number, Write[]>();
  for (const w of writes) (byUser.get(w.user) ?? byUser.set(w.user, []).get(w.user)!).push(w);
  const first = new Map<Write, number>();
  const samples: number[] = [];
  const afterAck: number[] = [];
  let unmatched = 0;
  for (const { deliveries } of reports) {
    for (let i = 0; i < deliveries.length; i += 3) {
      const [user, status, at] = [deliveries[i]!, deliveries[i + 1]!, deliveries[i + 2]!];
      const write = byUser
        .get(user)
        ?.filter((w) => w.status === status && w.sent <= at)
        .at(-1);
      if (!write) {
        unmatched++;
        continue;
      }
      samples.push(at - write.sent);
      afterAck.push(at - write.committed);
      first.set(write, Math.min(first.get(write) ?? Number.POSITIVE_INFINITY, at));
    }
  }
  return { samples, afterAck, unmatched, firsts: [...first].map(([w, at]) => at - w.sent) };
}

/** `rate` writes per second for `seconds`, then 3 s for the last deltas to arrive. */
async function writeRun(b: Bench, rate: number, seconds: number): Promise<Run> {
  await b.generators.all({ cmd: 'reset' } satisfies Command);
  const load = b.statusWriter.start(rate, rate * seconds);
  await load.done;
  if (load.failed()) throw new Error(`${load.failed()} writes failed`);
  await sleep(3000);
  const { writes } = load;
  const run: Run = {
    rate,
    writes: writes.length,
    expected: b.sessions.expected(writes),
    ...match(writes, await b.generators.report()),
    commits: writes.map((w) => w.committed - w.sent),
  };
  log(
    `${rate} writes/s: ${run.samples.length}/${run.expected} deliveries, p50 ${f1(pct(run.samples, 50))} ms, p99 ${f1(pct(run.samples, 99))} ms`,
  );
  return run;
}

/**
 * 1 and 10 writes/s: every write is its own change batch; then 200 writes/s with the CPU of every
 * process involved. Transactions are counted around each run.
 */
async function writeLatency(b: Bench) {
  const x0 = await xacts(b);
  const one = await writeRun(b, 1, 15);
  await sleep(STATS_SETTLE_MS);
  const x1 = await xacts(b);
  one.xactsPerWrite = (x1 - x0 - one.writes) / one.writes;
  const ten = await writeRun(b, 10, 10);
  await sleep(STATS_SETTLE_MS);
  const x2 = await xacts(b);
  ten.xactsPerWrite = (x2 - x1 - ten.writes) / ten.writes;
  const cpu200 = await cpuSnapshot(b);
  const t200 = now();
  const heavy = await writeRun(b, 200, 10);
  heavy.cpu = { ...(await cpuSince(b, cpu200)), seconds: (now() - t200) / 1000 };
  await sleep(STATS_SETTLE_MS);
  const x3 = await xacts(b);
  heavy.xactsPerWrite = (x3 - x2 - heavy.writes) / heavy.writes;
  return { one, ten, heavy };
}

/** What the clients saw over the whole run; then the sessions close and the server stops. */
async function closeSessions(b: Bench) {
  const final = await b.generators.report();
  const end = {
    stillOpen: sum(final, (r) => r.open),
    gaps: sum(final, (r) => r.gaps),
    other: sum(final, (r) => r.other),
    closed: final.flatMap((r) => Object.entries(r.closed).map(([code, n]) => `${n} × ${code}`)),
    sizes: (kind: Session['kind'], frame: 'snapshot' | 'delta') => final.flatMap((r) => r.bytes[kind][frame]),
    rssMb: rssKb(b.server.pid) / 1024,
  };
  b.generators.close();
  await stopInstance(b.server);
  log('sessions closed, server stopped');
  return end;
}

// --- 4. SQL statements per change batch, counted by the engine's database driver ------------------------
async function statementsPerBatch(b: Bench) {
  const { database, org } = b;
  const store = new MemoryStore(new MemoryBus(), realtimeKeys('bench-batch').userChannel);
  const engine = new Engine({
    database,
    store,
    logger: pino({ level: 'silent' }),
    coalesceMs: 1,
    sweepMs: 600_000,
  });
  const batches: { affected: number; statements: number; ms: number }[] = [];
  for (const n of [1, 10, org.plain.length]) {
    const ids = org.plain.slice(0, n).map((u) => u.id);
    await store.watch([...ids, b.admin.id, b.manager.id], Date.now() + 60_000);
    await engine.publish([]); // first documents
    const rows: ChangeRow[] = ids.map((id, i) => ({
      id: i,
      tx_id: 1,
      at_ms: Date.now(),
      table_name: 'tasks',
      op: 'update',
      row_id: org.taskOf.get(id)!,
      affected_user_ids: [id, b.manager.id],
      before: null,
      after: null,
    }));
    const before = database.stats.statements;
    const t = now();
    await engine.publish(rows);
    // + the change-log read and the cursor write, on the leader's listener connection.
    batches.push({ affected: n, statements: database.stats.statements - before + 2, ms: now() - t });
  }
  return batches;
}

// --- 5. The naive alternative: 3 count queries per connected user every 2 s ------------------------------
const POLL_QUERIES = [
  `select count(*) from tasks where assignee_id = $1 and status = 'done'`,
  `select count(*) from tasks where assignee_id = $1 and status <> 'done'`,
  `select count(*) from tasks where assignee_id = $1 and status <> 'done' and due_date < current_date`,
];

async function pollRun(b: Bench, sessions: number, seconds: number) {
  const pool = new pg.Pool({ connectionString: b.url, max: 10, application_name: 'bench-poll' });
  await Promise.all(Array.from({ length: 10 }, () => pool.query('select 1')));
  const pids = await backendsOf(b, 'bench-poll');
  const pgCpu0 = sum(pids, cpuMs);
  const clientCpu0 = process.cpuUsage();
  const latencies: number[] = [];
  const inflight: Promise<unknown>[] = [];
  const t0 = now();
  let polls = 0;
  // Session s polls at s·(2000/sessions) ms and every 2 s after: 1.5 queries/s per session.
  while (now() - t0 < seconds * 1000) {
    const due = Math.floor(((now() - t0) * sessions) / 2000);
    for (; polls < due; polls++) {
      const user = b.org.plain[polls % b.org.plain.length]!.id;
      for (const text of POLL_QUERIES) {
        const t = now();
        inflight.push(pool.query(text, [user]).then(() => latencies.push(now() - t)));
      }
    }
    await sleep(5);
  }
  await Promise.all(inflight);
  const elapsed = (now() - t0) / 1000;
  const pgCpu = sum(pids, cpuMs) - pgCpu0;
  const client = process.cpuUsage(clientCpu0);
  await pool.end();
  const queries = latencies.length;
  return {
    sessions,
    queries,
    qps: queries / elapsed,
    pgCpuMsPerS: pgCpu / elapsed,
    clientCpuMsPerS: (client.user + client.system) / 1000 / elapsed,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
  };
}

async function pollingComparison(b: Bench) {
  log('polling simulation…');
  const runs = [await pollRun(b, 100, 8), await pollRun(b, 400, 8)];
  const basis = runs.at(-1)!;
  return {
    runs,
    basis,
    pgMsPerQuery: basis.pgCpuMsPerS / basis.qps,
    clientMsPerQuery: basis.clientCpuMsPerS / basis.qps,
  };
}

// --- The scenarios in order ------------------------------------------------------------------------------
async function main() {
  const b = await setUp();
  const memory = await holdSessions(b);
  const idle = await idleWindow(b);
  const writes = await writeLatency(b);
  const end = await closeSessions(b);
  const batches = await statementsPerBatch(b);
  const polling = await pollingComparison(b);
  const markdown = report({ b, memory, idle, writes, end, batches, polling });
  console.log(markdown);
  writeSection('bench-realtime', markdown);
  // Redis keys of this run.
  await dropRedisPrefix(REDIS_URL, b.redisPrefix);
}

// --- Report ------------------------------------------------------------------------------------------------
function report(r: {
  b: Bench;
  memory: Awaited<ReturnType<typeof holdSessions>>;
  idle: Awaited<ReturnType<typeof idleWindow>>;
  writes: Awaited<ReturnType<typeof writeLatency>>;
  end: Awaited<ReturnType<typeof closeSessions>>;
  batches: Awaited<ReturnType<typeof statementsPerBatch>>;
  polling: Awaited<ReturnType<typeof pollingComparison>>;
}): string {
  const { memory, idle, end, batches } = r;
  const { held } = r.b.sessions;
  const { one, ten, heavy } = r.writes;
  const runs = [one, ten, heavy];
  const { basis, pgMsPerQuery, clientMsPerQuery } = r.polling;
  const userSnap = end.sizes('user', 'snapshot');
  const userDelta = end.sizes('user', 'delta');
  const lines = [
    `Command: \`npm run bench:realtime\` (BENCH_USERS=${USERS}, BENCH_SESSIONS=${STEPS.join(',')}) · ${utcMinute(started)} UTC · ${elapsedMinutes()} min`,
    '',
    `Machine: ${machine()}. **Shared**: other test runs were using the same 2 cores, PostgreSQL and Redis (load average ${loadAtStart.join(' / ')} at start, ${loadNow().join(' / ')} at the end), so treat the numbers as upper bounds.`,
    '',
    `Setup: one \`src/main.ts\` process (real PostgreSQL 15 and Redis 7 on the same machine, \`REALTIME_SWEEP_MS=600000\` so that no safety sweep falls in a measurement, heartbeat 15 s, open-files limit ${r.b.fdLimit}); ${USERS} plain users with one task each, 2 managers with ${BACKGROUND_TASKS} tasks in 8 projects, 1 admin. Sessions are held by ${WORKERS} load-generator processes (\`scripts/bench/realtime-worker.ts\`, plain \`ws\` clients) on the same machine; one admin and one manager session besides the plain users'.`,
    '',
    '**Sessions held by one instance** (measured; RSS of the server process from `/proc/<pid>/status`, 3 s after the sessions opened, no forced GC)',
    '',
    row([
      'sessions',
      'failed to open',
      'opened per s',
      'server RSS MB',
      'RSS per session KB (above 2-session baseline)',
    ]),
    row(['---:', '---:', '---:', '---:', '---:']),
    `| 2 | 0 | | ${f0(memory.baselineKb / 1024)} | |`,
    ...memory.steps.map((m) => row([m.sessions, m.failed, f0(m.openPerS), f0(m.rssMb), f1(m.perSessionKb)])),
    '',
    `Still open at the end: ${end.stillOpen} of ${held + 2}${end.closed.length ? ` (closed: ${end.closed.join(', ')})` : ''}; seq gaps seen by clients: ${end.gaps}; unexpected frames: ${end.other}. Server RSS at the end: ${f0(end.rssMb)} MB.`,
    '',
    `**Write-to-client latency** with ${held} user sessions open (${held / USERS} per user) (measured). A write is a plain SQL \`UPDATE tasks SET status\` from a separate pg pool; the clock starts just before the statement is sent (so it includes its commit) and stops when the delta reporting that status arrives in a load-generator process. "deliveries" counts every session of the written user (fewer than expected: writes to one user that fell into one change batch, which yields one delta with the final state); "first session" is the first session of each write; "after commit ack" starts the clock when the writer got the COMMIT acknowledgement instead (a lower bound: the commit happened slightly before).`,
    '',
    row([
      'writes/s',
      'writes',
      'deliveries / expected',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'max ms',
      'first session p50 ms',
      'UPDATE round trip p50 / p99 ms',
      'after commit ack p50 / p99 ms',
    ]),
    row(['---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    ...runs.map((w) =>
      row([
        w.rate,
        w.writes,
        `${w.samples.length} / ${w.expected}${w.unmatched ? ` (+${w.unmatched} unmatched)` : ''}`,
        f1(pct(w.samples, 50)),
        f1(pct(w.samples, 95)),
        f1(pct(w.samples, 99)),
        f1(pct(w.samples, 100)),
        f1(pct(w.firsts, 50)),
        `${f1(pct(w.commits, 50))} / ${f1(pct(w.commits, 99))}`,
        `${f1(pct(w.afterAck, 50))} / ${f1(pct(w.afterAck, 99))}`,
      ]),
    ),
    '',
    (() => {
      const c = heavy.cpu!;
      const share = (ms: number) => `${f0(ms / c.seconds / 10)}%`;
      return `CPU during the 200 writes/s run (${f1(c.seconds)} s including the 3 s drain; % of one core, \`/proc/<pid>/stat\`): server process ${share(c.server)}, its PostgreSQL backends ${share(c.backends)}, the writers' backends ${share(c.writers)}, the ${WORKERS} load generators ${share(c.workers)}; the whole machine (2 cores, other users included) was ${f0(c.machineBusy * 100)}% busy.`;
    })(),
    '',
    '**Database work per change** (measured)',
    '',
    `Transactions on the benchmark database (\`pg_stat_database\` xact_commit + xact_rollback, read from another database before and ${STATS_SETTLE_MS / 1000} s after each run, minus the benchmark's own UPDATEs; \`pg_stat_statements\` is not preloaded on this server):`,
    '',
    row(['situation', 'engine transactions', 'per']),
    row(['---', '---:', '---']),
    row([
      `idle, ${held + 2} sessions open, ${f1(idle.seconds)} s`,
      idle.xacts,
      `window (CPU: server ${f0(idle.server)} ms, its backends ${f0(idle.backends)} ms)`,
    ]),
    ...runs.map((w) => row([`${w.rate} writes/s`, f1(w.xactsPerWrite!), 'write'])),
    '',
    "A write that is its own batch costs 4 transactions: the change-log read, one read-only dashboard transaction, the cursor write (3 SQL round trips of the engine), and one transaction PostgreSQL itself runs on the listening backend to read the NOTIFY queue (no SQL; checked with `log_statement = 'all'` on a scratch database). Writes arriving within the 15 ms coalescing window or while a batch is running share a batch, so the cost per write drops as the write rate (or the engine's lag) grows. A pool connection reopened after 10 s idle adds one start-up transaction.",
    '',
    "SQL statements per change batch, counted by the engine's database driver (`Database.stats.statements`, BEGIN/COMMIT included) around `Engine.publish` on the same data, plus the change-log read and the cursor write on the listener connection (the admin and the manager are watched too):",
    '',
    row(['users affected by the batch', 'SQL statements', 'ms']),
    row(['---:', '---:', '---:']),
    ...batches.map((x) => row([x.affected, x.statements, f1(x.ms)])),
    '',
    '**Bytes per frame** (measured at the clients: WebSocket message payload, uncompressed)',
    '',
    row(['document', 'snapshot bytes', 'delta bytes (mean)', 'delta bytes (max)', 'deltas seen']),
    row(['---', '---:', '---:', '---:', '---:']),
    row(['plain user', f0(mean(userSnap)), f0(mean(userDelta)), f0(pct(userDelta, 100)), userDelta.length]),
    ...(['manager', 'admin'] as const).map((kind) =>
      row([
        kind,
        f0(mean(end.sizes(kind, 'snapshot'))),
        f0(mean(end.sizes(kind, 'delta'))),
        f0(pct(end.sizes(kind, 'delta'), 100)),
        end.sizes(kind, 'delta').length,
      ]),
    ),
    '',
    '**Against naive polling**: every connected user runs 3 count queries every 2 s (1.5 queries/s per session) on the same database. Run for real at small scale (10 pooled connections, 8 s each; PostgreSQL CPU = utime+stime of those backends, client CPU = this process):',
    '',
    row([
      'polling sessions',
      'queries/s',
      'PostgreSQL CPU ms/s',
      'client CPU ms/s',
      'query p50 ms',
      'query p99 ms',
      '',
    ]),
    row(['---:', '---:', '---:', '---:', '---:', '---:', '---']),
    ...r.polling.runs.map((p) =>
      row([
        p.sessions,
        f0(p.qps),
        f0(p.pgCpuMsPerS),
        f0(p.clientCpuMsPerS),
        f1(p.p50),
        f1(p.p99),
        'measured',
      ]),
    ),
    '',
    `Extrapolated linearly from the ${basis.sessions}-session run (${pgMsPerQuery.toFixed(3)} ms PostgreSQL CPU and ${clientMsPerQuery.toFixed(3)} ms client CPU per query), against the push design's measured cost:`,
    '',
    row([
      'sessions',
      'polling queries/s',
      'polling PostgreSQL CPU (cores)',
      'polling client CPU (cores)',
      'push: database reads when idle',
    ]),
    row(['---:', '---:', '---:', '---:', '---']),
    ...STEPS.map((s) =>
      row([
        s,
        `${f0(s * 1.5)} (extrapolated)`,
        `${((s * 1.5 * pgMsPerQuery) / 1000).toFixed(2)} (extrapolated)`,
        `${((s * 1.5 * clientMsPerQuery) / 1000).toFixed(2)} (extrapolated)`,
        '1 change-log read per sweep (default 30 s: 0.03/s), whatever the session count',
      ]),
    ),
    '',
    `The push design's database cost follows the writes, not the sessions: ${f1(one.xactsPerWrite!)} transactions per isolated write and ${f1(heavy.xactsPerWrite!)} per write at 200 writes/s (measured above), and ${idle.xacts} transactions in ${f1(idle.seconds)} s with ${held + 2} idle sessions. The idle figure with the default sweep is covered by test/realtime/no-polling.test.ts (one read per sweep for 10 or 1,010 sessions).`,
  ];
  return lines.join('\n');
}

await finish(main);
