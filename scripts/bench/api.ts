/**
 * `npm run bench:api`: HTTP throughput and latency of the JSON API on PGlite and on PostgreSQL,
 * and the cost of computing dashboards in batches. Prints markdown and writes it into
 * docs/benchmarks.md. Each endpoint runs against a server in its own process.
 */
import autocannon from 'autocannon';
import { eq } from 'drizzle-orm';
import { hashPassword } from '../../src/auth/passwords.js';
import type { DatabaseTarget } from '../../src/config.js';
import { computeDashboards } from '../../src/dashboard/metrics.js';
import { openDatabase } from '../../src/db/open.js';
import { projects } from '../../src/db/schema/projects.js';
import { users } from '../../src/db/schema/users.js';
import { seedOrganisation } from '../../src/db/seed/organisation.js';
import { freshBenchDatabase, machine, startServer, stopServer, tempDir, writeSection } from './support.js';

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
}

/** Seeds the organisation; returns a manager's username and one of their project ids. */
async function prepare(target: DatabaseTarget) {
  const database = await openDatabase(target);
  const hash = await hashPassword(PASSWORD);
  const org = await seedOrganisation(database.db, { ...SIZE, passwordHash: async () => hash });
  await database.db.insert(users).values({ username: 'bench.admin', role: 'admin', password_hash: hash });
  const manager = org.managers[0]!;
  const [m] = await database.db.select({ id: users.id }).from(users).where(eq(users.username, manager));
  const [project] = await database.db
    .select({ id: projects.id })
    .from(projects)
    .where(eq(projects.owner_id, m!.id));
  await database.close();
  return { manager, projectId: project!.id };
}

async function login(base: string, username: string) {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (!res.ok) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

async function load(url: string, token: string, init: { method?: 'GET' | 'POST'; body?: string } = {}) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
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
const http = [...(await httpBench('pglite', 4601)), ...(await httpBench('pg', 4602))];
const batches = { pglite: await batchBench('pglite'), pg: await batchBench('pg') };

const lines = [
  `Command: \`npm run bench:api\` (BENCH_SECONDS=${DURATION}, BENCH_CONNECTIONS=${CONNECTIONS}) · ${started.toISOString().slice(0, 10)}`,
  `Machine: ${machine()}`,
  `Data: ${SIZE.managers} managers, ${SIZE.users} users, ${SIZE.projects} projects, ${SIZE.tasks} tasks; server in its own process, autocannon in another.`,
  '',
  '| driver | endpoint | requests/s | p50 ms | p99 ms | errors |',
  '| --- | --- | ---: | ---: | ---: | ---: |',
  ...http.map((r) => `| ${r.driver} | ${r.endpoint} | ${r.rps} | ${r.p50} | ${r.p99} | ${r.errors} |`),
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
writeSection('bench-api', markdown);
