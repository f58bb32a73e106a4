/**
 * `npm run bench:api`: HTTP throughput and latency of the JSON API on PGlite and on PostgreSQL,
 * and the cost of computing dashboards in batches. Prints markdown and writes it into
 * docs/benchmarks.md. Each endpoint runs against a server in its own process.
 *
 * On PostgreSQL every figure stands beside a yardstick measured right before it, in the same run
 * (issue 12): a bare Hono "hello" server for /healthz, pgbench running the very statements of the
 * request (prepared, as many clients as connections) for the database-bound reads, and, with
 * BASELINE_DIR=<a checkout of an earlier version>, that version's server for the dashboards.
 * The server is the compiled dist/main.js (built first), as in production.
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { hashPassword } from '../../src/auth/passwords.ts';
import type { DatabaseTarget } from '../../src/config.ts';
import { computeDashboards } from '../../src/dashboard/metrics.ts';
import { openDatabase } from '../../src/db/open.ts';
import { users } from '../../src/db/schema/users.ts';
import { seedOrganisation } from '../../src/db/seed/organisation.ts';
import { LiveClient } from '../../test/support/live-client.ts';
import {
  freshBenchDatabase,
  machine,
  seedBenchOrganisation,
  signIn,
  spawnNode,
  startServer,
  stopServer,
  tempDir,
  writeSection,
} from './support.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const PASSWORD = 'bench-password-2026';
const SIZE = { managers: 50, users: 1000, projects: 100, tasks: 20_000 };
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-000';

interface Row {
  driver: string;
  endpoint: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** The same-run yardstick: its name and requests (or transactions) per second. */
  yardstick?: { name: string; rps: number };
}

/** Seeds the organisation; returns a manager's username and one of their project ids. */
async function prepare(target: DatabaseTarget) {
  const database = await openDatabase(target);
  const { org, manager, projectId } = await seedBenchOrganisation(database.db, SIZE, PASSWORD);
  await database.close();
  return { manager, user: org.users[0]!, projectId };
}

/** A bearer token for `username` (the benchmark's one password). */
const login = (base: string, username: string) => signIn(base, username, PASSWORD);

/**
 * While true, `load` runs for two seconds and its figure is thrown away: each case is run once
 * unmeasured first (JIT, the pool's connections, PostgreSQL's plan cache), else the first case of
 * a run reads several times slower than the same case a minute later.
 */
let warmingUp = false;

async function load(
  url: string,
  token: string,
  init: { method?: 'GET' | 'POST'; body?: string; cookie?: boolean } = {},
) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: warmingUp ? 2 : DURATION,
    method: init.method ?? 'GET',
    headers: {
      ...(!token
        ? {}
        : init.cookie
          ? { cookie: `portal_session=${token}` }
          : { authorization: `Bearer ${token}` }),
      'content-type': 'application/json',
    },
    ...(init.body ? { body: init.body } : {}),
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

async function httpBench(driver: 'pglite' | 'pg', port: number): Promise<Row[]> {
  const pgDb = driver === 'pg' ? await freshBenchDatabase('api') : undefined;
  const target: DatabaseTarget = pgDb
    ? { driver: 'pg', url: pgDb.url }
    : { driver: 'pglite', dataDir: tempDir('api') };
  console.error(`[${driver}] seeding ${SIZE.users} users, ${SIZE.tasks} tasks…`);
  const { manager, projectId } = await prepare(target);
  const server = await startServer(
    { DATABASE_URL: pgDb ? pgDb.url : (target as { dataDir: string }).dataDir, JWT_SECRET },
    port,
  );
  const base = `http://127.0.0.1:${port}`;
  const rows: Row[] = [];
  try {
    const managerToken = await login(base, manager);
    const adminToken = await login(base, 'bench.admin');
    const cases: [string, () => Promise<Omit<Row, 'driver' | 'endpoint'>>][] = [
      ['GET /api/tasks?limit=50 (manager)', () => load(`${base}/api/tasks?limit=50`, managerToken)],
      ['GET /api/metrics (manager)', () => load(`${base}/api/metrics`, managerToken)],
      ['GET /api/metrics (admin)', () => load(`${base}/api/metrics`, adminToken)],
      [
        'POST /api/tasks (manager)',
        () =>
          load(`${base}/api/tasks`, managerToken, {
            method: 'POST',
            body: JSON.stringify({ project_id: projectId, title: 'Benchmark task', priority: 'high' }),
          }),
      ],
    ];
    for (const [endpoint, run] of cases) {
      console.error(`[${driver}] ${endpoint} for ${DURATION}s with ${CONNECTIONS} connections…`);
      rows.push({ driver, endpoint, ...(await run()) });
    }
  } finally {
    await stopServer(server);
    await pgDb?.drop();
  }
  return rows;
}

/** The sign-in and session id a token carries (pgbench runs the sign-in check with them). */
function claimsOf(token: string) {
  const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
    sub: string;
    sid: string;
  };
  return { userId: Number(payload.sub), sessionId: payload.sid };
}

/** The statements each database-bound read runs, as pgbench scripts (`:uid`, `:sid` set with -D). */
const SIGN_IN = `select u.*, s.last_used_at from auth_sessions s inner join users u on u.id = s.user_id
  where s.id = :sid and s.user_id = :uid and s.revoked_at is null and s.expires_at > now() and u.active = true;`;
const scope = {
  user: 'assignee_id = :uid',
  manager: '(assignee_id = :uid or project_id = any(array(select id from projects where owner_id = :uid)))',
};
const PAGE = (where: string) =>
  `select * from tasks where ${where} order by created_at desc, id desc limit 50 offset 0;`;
const COUNT = (where: string) => `select count(*) from tasks where ${where};`;

/** pgbench over `statements` (one transaction each time through), prepared, CONNECTIONS clients. */
function pgbench(url: string, statements: string[], vars: Record<string, string | number>): number {
  const script = join(tempDir('pgbench'), 'script.sql');
  writeFileSync(script, `${statements.map((s) => s.replace(/\s+/g, ' ')).join('\n')}\n`);
  const u = new URL(url);
  const out = execFileSync(
    'pgbench',
    [
      '-n',
      '-M',
      'prepared',
      '-c',
      String(CONNECTIONS),
      '-j',
      '2',
      '-T',
      String(DURATION),
      '-f',
      script,
      ...Object.entries(vars).flatMap(([k, v]) => ['-D', `${k}=${v}`]),
      '-h',
      u.hostname,
      '-p',
      u.port || '5432',
      '-U',
      decodeURIComponent(u.username) || 'postgres',
      u.pathname.slice(1),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1];
  if (!tps) throw new Error(`pgbench: no tps in ${out}`);
  return Math.round(Number(tps));
}

/** Requests/s of the bare Hono server. */
async function helloYardstick(port: number) {
  const child = spawnNode(['scripts/bench/hello.ts'], { PORT: String(port) }, false);
  try {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/`)).ok) break;
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    return (await load(`http://127.0.0.1:${port}/`, '')).rps;
  } finally {
    await stopServer(child);
  }
}

/** PostgreSQL: each figure beside its same-run yardstick (pgbench, bare Hono, or the baseline server). */
async function pgHttpBench(port: number): Promise<Row[]> {
  const pgDb = await freshBenchDatabase('api');
  const target: DatabaseTarget = { driver: 'pg', url: pgDb.url };
  console.error(`[pg] seeding ${SIZE.users} users, ${SIZE.tasks} tasks…`);
  const { manager, user, projectId } = await prepare(target);
  const baselineDir = process.env.BASELINE_DIR;
  for (const dir of [undefined, baselineDir]) {
    console.error(`[pg] building ${dir ?? 'this checkout'}…`);
    execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], {
      cwd: dir ?? process.cwd(),
      stdio: 'inherit',
    });
    if (!baselineDir) break;
  }
  const env = { DATABASE_URL: pgDb.url, JWT_SECRET };
  const base = `http://127.0.0.1:${port}`;
  const rows: Row[] = [];
  const server = await startServer(env, port, undefined, 'dist/main.js');
  let baseline: Awaited<ReturnType<typeof startServer>> | undefined;
  const cleanup: (() => void)[] = [];
  try {
    const tokens = {
      user: await login(base, user),
      manager: await login(base, manager),
      admin: await login(base, 'bench.admin'),
    };
    const u = claimsOf(tokens.user);
    const m = claimsOf(tokens.manager);
    const baselineBase = `http://127.0.0.1:${port + 1}`;
    if (baselineDir) baseline = await startServer(env, port + 1, baselineDir, 'dist/main.js');
    const baselineTokens = baseline
      ? { manager: await login(baselineBase, manager), admin: await login(baselineBase, 'bench.admin') }
      : undefined;
    const sameStatements = (
      name: string,
      statements: string[],
      claims: { userId: number; sessionId: string },
    ) => ({
      name,
      run: async () => pgbench(pgDb.url, statements, { uid: claims.userId, sid: `'${claims.sessionId}'` }),
    });
    const previous = (path: string, who: 'manager' | 'admin') =>
      baselineTokens
        ? {
            name: 'the version before (BASELINE_DIR)',
            run: async () => (await load(`${baselineBase}${path}`, baselineTokens[who])).rps,
          }
        : undefined;
    const sockets: LiveClient[] = [];
    cleanup.push(() => {
      for (const socket of sockets) socket.close();
    });
    const openPortal = async () => {
      if (sockets.length > 0) return;
      sockets.push(await new LiveClient(base.replace('http', 'ws'), tokens.manager).connect());
      if (baselineTokens) {
        sockets.push(
          await new LiveClient(baselineBase.replace('http', 'ws'), baselineTokens.manager).connect(),
        );
      }
    };
    const withPortal = (yardstick: ReturnType<typeof previous>) =>
      yardstick && {
        ...yardstick,
        run: async () => {
          await openPortal();
          return yardstick.run();
        },
      };
    const cases: [
      string,
      () => Promise<Omit<Row, 'driver' | 'endpoint'>>,
      { name: string; run: () => Promise<number> }?,
    ][] = [
      [
        'GET /healthz',
        () => load(`${base}/healthz`, ''),
        { name: 'bare Hono hello', run: () => helloYardstick(port + 2) },
      ],
      [
        'GET /api/me (user)',
        () => load(`${base}/api/me`, tokens.user),
        sameStatements('pgbench: sign-in', [SIGN_IN], u),
      ],
      [
        'GET /api/tasks?limit=50 (user)',
        () => load(`${base}/api/tasks?limit=50`, tokens.user),
        sameStatements('pgbench: sign-in, page, count', [SIGN_IN, PAGE(scope.user), COUNT(scope.user)], u),
      ],
      [
        'GET /api/tasks?limit=50 (manager)',
        () => load(`${base}/api/tasks?limit=50`, tokens.manager),
        sameStatements(
          'pgbench: sign-in, page, count',
          [SIGN_IN, PAGE(scope.manager), COUNT(scope.manager)],
          m,
        ),
      ],
      [
        'GET /api/metrics (manager)',
        () => load(`${base}/api/metrics`, tokens.manager),
        previous('/api/metrics', 'manager'),
      ],
      [
        'GET /dashboard (manager)',
        () => load(`${base}/dashboard`, tokens.manager, { cookie: true }),
        previous('/dashboard', 'manager'),
      ],
      [
        'GET /api/metrics (admin)',
        () => load(`${base}/api/metrics`, tokens.admin),
        previous('/api/metrics', 'admin'),
      ],
      // The manager has the portal open (a realtime socket, as the dashboard page opens one), on
      // this server and on the baseline's: the realtime engine keeps their document.
      [
        'GET /api/metrics (manager, portal open)',
        async () => {
          await openPortal();
          return load(`${base}/api/metrics`, tokens.manager);
        },
        withPortal(previous('/api/metrics', 'manager')),
      ],
      [
        'GET /dashboard (manager, portal open)',
        async () => {
          await openPortal();
          return load(`${base}/dashboard`, tokens.manager, { cookie: true });
        },
        withPortal(previous('/dashboard', 'manager')),
      ],
      [
        'POST /api/tasks (manager)',
        () =>
          load(`${base}/api/tasks`, tokens.manager, {
            method: 'POST',
            body: JSON.stringify({ project_id: projectId, title: 'Benchmark task', priority: 'high' }),
          }),
      ],
    ];
    // BENCH_CASES=<regular expression>: only the cases whose name matches (a quicker look at one).
    const wanted = new RegExp(process.env.BENCH_CASES ?? '');
    for (const [endpoint, run, yardstick] of cases.filter(([name]) => wanted.test(name))) {
      let measured: Row['yardstick'];
      if (yardstick) {
        console.error(`[pg] yardstick for ${endpoint}: ${yardstick.name}…`);
        measured = { name: yardstick.name, rps: await yardstick.run() };
      }
      warmingUp = true;
      await run();
      warmingUp = false;
      console.error(`[pg] ${endpoint} for ${DURATION}s with ${CONNECTIONS} connections…`);
      rows.push({ driver: 'pg', endpoint, ...(await run()), ...(measured ? { yardstick: measured } : {}) });
    }
  } finally {
    for (const step of cleanup) step();
    await stopServer(server);
    if (baseline) await stopServer(baseline);
    await pgDb.drop();
  }
  return rows;
}

async function batchBench(driver: 'pglite' | 'pg') {
  const pgDb = driver === 'pg' ? await freshBenchDatabase('batch') : undefined;
  const database = await openDatabase(
    pgDb ? { driver: 'pg', url: pgDb.url } : { driver: 'pglite', dataDir: undefined },
  );
  const hash = await hashPassword(PASSWORD);
  await seedOrganisation(database.db, { ...SIZE, passwordHash: async () => hash });
  await database.db.insert(users).values({ username: 'bench.admin', role: 'admin', password_hash: hash });
  const ids = (await database.db.select({ id: users.id }).from(users)).map((r) => r.id);
  const rows: { batch: number; statements: number; ms: number }[] = [];
  for (const size of [1, 100, 1000]) {
    const batch = ids.slice(0, size);
    await computeDashboards(database.db, batch); // warm-up
    const times: number[] = [];
    let statements = 0;
    for (let i = 0; i < 5; i++) {
      const before = database.stats.statements;
      const started = performance.now();
      await computeDashboards(database.db, batch);
      times.push(performance.now() - started);
      statements = database.stats.statements - before;
    }
    times.sort((a, b) => a - b);
    rows.push({ batch: size, statements, ms: Math.round(times[2]! * 10) / 10 });
  }
  await database.close();
  await pgDb?.drop();
  return rows;
}

const started = new Date();
/** BENCH_ONLY=pg: the PostgreSQL table alone (no PGlite, no batches), printed, docs left alone. */
const only = process.env.BENCH_ONLY === 'pg';
const http = [...(only ? [] : await httpBench('pglite', 4601)), ...(await pgHttpBench(4602))];
const batches = only
  ? { pglite: [], pg: [] }
  : { pglite: await batchBench('pglite'), pg: await batchBench('pg') };

const lines = [
  `Command: \`npm run bench:api\` (BENCH_SECONDS=${DURATION}, BENCH_CONNECTIONS=${CONNECTIONS}) · ${started.toISOString().slice(0, 10)}`,
  `Machine: ${machine()}`,
  `Data: ${SIZE.managers} managers, ${SIZE.users} users, ${SIZE.projects} projects, ${SIZE.tasks} tasks; server in its own process, autocannon in another.`,
  '',
  'Yardstick: measured just before the figure, in the same run, on the same machine (pgbench: the same statements, prepared, as many clients as connections, transactions/s).',
  '',
  '| driver | endpoint | requests/s | p50 ms | p99 ms | errors | yardstick | yardstick /s | ratio |',
  '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
  ...http.map(
    (r) =>
      `| ${r.driver} | ${r.endpoint} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.yardstick?.name ?? ''} | ${r.yardstick?.rps ?? ''} | ${r.yardstick ? `${Math.round((100 * r.rps) / r.yardstick.rps)} %` : ''} |`,
  ),
  '',
  'Dashboard documents computed in one batch (`computeDashboards`, median of 5; statements counted by the driver):',
  '',
  '| driver | users in batch | SQL statements | ms |',
  '| --- | ---: | ---: | ---: |',
  ...(['pglite', 'pg'] as const).flatMap((d) =>
    batches[d].map((b) => `| ${d} | ${b.batch} | ${b.statements} | ${b.ms} |`),
  ),
];
const markdown = lines.join('\n');
console.log(markdown);
if (!only) writeSection('bench-api', markdown);
