/**
 * `npm run bench:round-trips`: how many database round trips each page and API request waits for,
 * one after another, when the database is far away (issue 11). The portal runs in its own process
 * against PostgreSQL through a latency-injecting TCP proxy (scripts/bench/latency-proxy.ts); each
 * request is timed with no delay and with DELAY ms each way, one at a time:
 *
 *   sequential round trips ≈ (p50 at DELAY − p50 at 0) / (2 × DELAY)
 *
 * and the proxy counts every round trip it carried (parallel ones included). BASELINE_DIR=<a
 * checkout> measures another version of the portal with the same requests (the "before" column).
 * Prints markdown and writes it into docs/benchmarks.md.
 */
import { eq } from 'drizzle-orm';
import { openDatabase } from '../../src/db/open.ts';
import { tasks } from '../../src/db/schema/tasks.ts';
import { startLatencyProxy } from './latency-proxy.ts';
import {
  freshBenchDatabase,
  machine,
  seedBenchOrganisation,
  signIn,
  startServer,
  stopServer,
  writeSection,
} from './support.ts';

const DELAY = Number(process.env.BENCH_DELAY_MS ?? 40);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 7);
const PASSWORD = 'bench-password-2026';
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-000';
const PORT = Number(process.env.BENCH_PORT ?? 4611);

interface Probe {
  name: string;
  who: 'user' | 'manager' | 'admin' | 'anonymous';
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string | ((ids: Ids) => string);
  /** Pages use the cookie, the API the bearer token. */
  cookie?: boolean;
  body?: (ids: Ids, i: number) => unknown;
  /**
   * Run before each timed request, untimed and uncounted (the pause follows it): answers the path
   * and headers of that request, e.g. a fresh row to delete or the If-Match of the current version.
   */
  setup?: (
    api: BenchApi,
    ids: Ids,
    i: number,
  ) => Promise<{ path?: string; headers?: Record<string, string> }>;
}
/** A JSON request as one of the benchmark's people (bearer token). */
type BenchApi = (
  method: string,
  path: string,
  body?: unknown,
) => Promise<{ status: number; body: { id: number }; etag: string }>;
interface Ids {
  taskId: number;
  projectId: number;
  userId: number;
}

const allProbes: Probe[] = [
  { name: 'GET /healthz', who: 'anonymous', path: '/healthz' },
  { name: 'GET /api/me', who: 'user', path: '/api/me' },
  { name: 'GET /api/me/sessions', who: 'user', path: '/api/me/sessions' },
  { name: 'GET /api/tasks (user)', who: 'user', path: '/api/tasks?limit=50' },
  { name: 'GET /api/tasks (manager)', who: 'manager', path: '/api/tasks?limit=50' },
  { name: 'GET /api/tasks/:id', who: 'manager', path: (ids) => `/api/tasks/${ids.taskId}` },
  { name: 'GET /api/projects', who: 'manager', path: '/api/projects' },
  { name: 'GET /api/projects/:id', who: 'manager', path: (ids) => `/api/projects/${ids.projectId}` },
  { name: 'GET /api/users (admin)', who: 'admin', path: '/api/users' },
  { name: 'GET /api/users/:id (admin)', who: 'admin', path: (ids) => `/api/users/${ids.userId}` },
  { name: 'GET /api/metrics (user)', who: 'user', path: '/api/metrics' },
  { name: 'GET /api/metrics (manager)', who: 'manager', path: '/api/metrics' },
  { name: 'GET /api/notifications', who: 'user', path: '/api/notifications' },
  { name: 'GET /api/audit (admin)', who: 'admin', path: '/api/audit' },
  { name: 'GET /api/tasks/export.csv', who: 'manager', path: '/api/tasks/export.csv' },
  { name: 'GET /dashboard (manager)', who: 'manager', path: '/dashboard', cookie: true },
  { name: 'GET /tasks (manager)', who: 'manager', path: '/tasks', cookie: true },
  { name: 'GET /tasks/:id', who: 'manager', path: (ids) => `/tasks/${ids.taskId}`, cookie: true },
  // The task dialog's Edit (htmx asks for the form alone) and, without JavaScript, the edit page.
  {
    name: 'GET /tasks/:id/edit (dialog)',
    who: 'manager',
    path: (ids) => `/tasks/${ids.taskId}/edit`,
    cookie: true,
    setup: async () => ({ headers: { 'hx-request': 'true' } }),
  },
  {
    // What an open form asks while it is open (public/js/edit-watch.js): 204, nothing changed.
    name: 'GET /tasks/:id/changes (nothing changed)',
    who: 'manager',
    path: (ids) => `/tasks/${ids.taskId}/changes`,
    cookie: true,
    setup: async (api, ids) => {
      const { etag } = await api('GET', `/api/tasks/${ids.taskId}`);
      return { path: `/tasks/${ids.taskId}/changes?version=${encodeURIComponent(etag)}&since=1` };
    },
  },
  { name: 'GET /projects', who: 'manager', path: '/projects', cookie: true },
  { name: 'GET /projects/:id', who: 'manager', path: (ids) => `/projects/${ids.projectId}`, cookie: true },
  { name: 'GET /users (admin)', who: 'admin', path: '/users', cookie: true },
  { name: 'GET /workload (manager)', who: 'manager', path: '/workload', cookie: true },
  { name: 'GET /audit (admin)', who: 'admin', path: '/audit', cookie: true },
  { name: 'GET /account', who: 'user', path: '/account', cookie: true },
  {
    name: 'POST /api/tasks',
    who: 'manager',
    method: 'POST',
    path: '/api/tasks',
    body: (ids, i) => ({ project_id: ids.projectId, title: `Round trip ${i}`, priority: 'high' }),
  },
  {
    name: 'PATCH /api/tasks/:id',
    who: 'manager',
    method: 'PATCH',
    path: (ids) => `/api/tasks/${ids.taskId}`,
    body: (_ids, i) => ({ title: `Renamed ${i}` }),
  },
  {
    name: 'PATCH /api/tasks/:id (If-Match)',
    who: 'manager',
    method: 'PATCH',
    path: (ids) => `/api/tasks/${ids.taskId}`,
    body: (_ids, i) => ({ status: i % 2 ? 'in_progress' : 'todo' }),
    setup: async (api, ids) => ({
      headers: { 'if-match': (await api('GET', `/api/tasks/${ids.taskId}`)).etag },
    }),
  },
  {
    name: 'DELETE /api/tasks/:id (If-Match)',
    who: 'manager',
    method: 'DELETE',
    path: '',
    setup: async (api, ids, i) => {
      const created = await api('POST', '/api/tasks', { project_id: ids.projectId, title: `Doomed ${i}` });
      const path = `/api/tasks/${created.body.id}`;
      return { path, headers: { 'if-match': (await api('GET', path)).etag } };
    },
  },
  {
    name: 'POST /api/projects',
    who: 'manager',
    method: 'POST',
    path: '/api/projects',
    body: (_ids, i) => ({ name: `Round trip project ${i}` }),
  },
  {
    name: 'PATCH /api/projects/:id (If-Match)',
    who: 'manager',
    method: 'PATCH',
    path: (ids) => `/api/projects/${ids.projectId}`,
    body: (_ids, i) => ({ description: `Described ${i}` }),
    setup: async (api, ids) => ({
      headers: { 'if-match': (await api('GET', `/api/projects/${ids.projectId}`)).etag },
    }),
  },
  {
    name: 'DELETE /api/projects/:id',
    who: 'manager',
    method: 'DELETE',
    path: '',
    setup: async (api, _ids, i) => ({
      path: `/api/projects/${(await api('POST', '/api/projects', { name: `Doomed project ${i}` })).body.id}`,
    }),
  },
  {
    name: 'POST /api/users (admin)',
    who: 'admin',
    method: 'POST',
    path: '/api/users',
    body: (_ids, i) => ({ username: `rt.user.${i}`, password: PASSWORD, role: 'user' }),
  },
  {
    name: 'PATCH /api/users/:id (admin, If-Match)',
    who: 'admin',
    method: 'PATCH',
    path: (ids) => `/api/users/${ids.userId}`,
    body: (_ids, i) => ({ display_name: `Manager ${i}` }),
    setup: async (api, ids) => ({
      headers: { 'if-match': (await api('GET', `/api/users/${ids.userId}`)).etag },
    }),
  },
  {
    name: 'DELETE /api/users/:id (admin)',
    who: 'admin',
    method: 'DELETE',
    path: '',
    setup: async (api, _ids, i) => ({
      path: `/api/users/${(await api('POST', '/api/users', { username: `rt.doomed.${i}`, password: PASSWORD, role: 'user' })).body.id}`,
    }),
  },
  {
    name: 'POST /api/notifications/read',
    who: 'user',
    method: 'POST',
    path: '/api/notifications/read',
    body: () => ({}),
  },
];

/** BENCH_ONLY=<regular expression>: only the requests whose name matches (e.g. `^(POST|PATCH|DELETE)`). */
const probes = process.env.BENCH_ONLY
  ? allProbes.filter((p) => new RegExp(process.env.BENCH_ONLY!).test(p.name))
  : allProbes;

async function prepare(url: string) {
  const database = await openDatabase({ driver: 'pg', url } as never);
  const { org, manager, managerId, projectId } = await seedBenchOrganisation(
    database.db,
    { managers: 5, users: 100, projects: 10, tasks: 2000 },
    PASSWORD,
  );
  const [task] = await database.db
    .select({ id: tasks.id })
    .from(tasks)
    .where(eq(tasks.project_id, projectId));
  await database.close();
  return { manager, user: org.users[0]!, ids: { taskId: task!.id, projectId, userId: managerId } };
}

/** A bearer token for `username` (the benchmark's one password). */
const login = (base: string, username: string) => signIn(base, username, PASSWORD);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Numbers the requests of a whole run (names and titles stay unique across both delays). */
let n = 0;

/** p50 time and median proxied round trips of each probe, at the proxy's current delay. */
async function measure(
  base: string,
  tokens: Record<Exclude<Probe['who'], 'anonymous'>, string>,
  ids: Ids,
  proxy: { roundTrips: number; sequential: number },
) {
  const out = new Map<string, { ms: number; trips: number; sequential: number; status: number }>();
  for (const probe of probes) {
    const as = probe.who === 'anonymous' ? undefined : tokens[probe.who];
    const api: BenchApi = async (method, path, body) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(as ? { authorization: `Bearer ${as}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${probe.name} set-up: ${method} ${path} answered ${res.status}`);
      return {
        status: res.status,
        body: (await res.json()) as { id: number },
        etag: res.headers.get('etag') ?? '',
      };
    };
    const times: number[] = [];
    const trips: number[] = [];
    const sequential: number[] = [];
    let status = 0;
    for (let i = 0; i < REPEAT + 1; i++) {
      const token = probe.who === 'anonymous' ? undefined : tokens[probe.who];
      const prepared = probe.setup ? await probe.setup(api, ids, n) : {};
      const path = prepared.path ?? (typeof probe.path === 'function' ? probe.path(ids) : probe.path);
      const headers: Record<string, string> = !token
        ? {}
        : probe.cookie
          ? { cookie: `portal_session=${token}` }
          : { authorization: `Bearer ${token}` };
      if (probe.body) {
        headers['content-type'] = 'application/json';
        headers.origin = base;
      }
      Object.assign(headers, prepared.headers);
      // Let anything the previous request left running (a "last used" stamp) finish first.
      await new Promise((r) => setTimeout(r, 2 * DELAY + 20));
      const before = { all: proxy.roundTrips, sequential: proxy.sequential };
      const started = performance.now();
      const res = await fetch(`${base}${path}`, {
        method: probe.method ?? 'GET',
        headers,
        ...(probe.body ? { body: JSON.stringify(probe.body(ids, n)) } : {}),
      });
      n++;
      await res.arrayBuffer();
      const ms = performance.now() - started;
      status = res.status;
      if (i === 0) continue; // warm-up: statements prepared, pool connections open
      times.push(ms);
      trips.push(proxy.roundTrips - before.all);
      sequential.push(proxy.sequential - before.sequential);
    }
    out.set(probe.name, { ms: median(times), trips: median(trips), sequential: median(sequential), status });
  }
  return out;
}

async function run(label: string, cwd: string | undefined) {
  const db = await freshBenchDatabase(`rt_${label}`);
  const { manager, user, ids } = await prepare(db.url);
  const target = new URL(db.url);
  const proxy = await startLatencyProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(db.url);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  const server = await startServer(
    { DATABASE_URL: viaProxy.toString(), DATABASE_LISTEN_URL: db.url, JWT_SECRET },
    PORT,
    cwd,
  );
  const base = `http://127.0.0.1:${PORT}`;
  try {
    const tokens = {
      user: await login(base, user),
      manager: await login(base, manager),
      admin: await login(base, 'bench.admin'),
    };
    console.error(`[${label}] no delay…`);
    proxy.delayMs = 0;
    const near = await measure(base, tokens, ids, proxy);
    console.error(`[${label}] ${DELAY} ms each way…`);
    proxy.delayMs = DELAY;
    const far = await measure(base, tokens, ids, proxy);
    return { near, far };
  } finally {
    await stopServer(server);
    await proxy.close();
    await db.drop();
  }
}

const started = new Date();
const baseline = process.env.BASELINE_DIR ? await run('before', process.env.BASELINE_DIR) : undefined;
const now = await run('after', undefined);
const estimate = (r: { near: Map<string, { ms: number }>; far: Map<string, { ms: number }> }, name: string) =>
  Math.max(0, Math.round((r.far.get(name)!.ms - r.near.get(name)!.ms) / (2 * DELAY)));

const lines = [
  `Command: \`npm run bench:round-trips\` (BENCH_DELAY_MS=${DELAY}, median of ${REPEAT}, one request at a time${baseline ? ', BASELINE_DIR=<a checkout of the version before>' : ''}) · ${started.toISOString().slice(0, 10)}`,
  `Machine: ${machine()}`,
  `Round trips as the proxy counted them at ${DELAY} ms each way: "sequential" = those that began while no other was under way (what the caller waits for), "all" = every one, parallel ones included; "timed" = (p50 at ${DELAY} ms − p50 at 0) / ${2 * DELAY} ms, rounded, a cross-check on a busy machine.`,
  '',
  baseline
    ? `| request | status | sequential before | sequential after | all before | all after | timed before | timed after | p50 ms at ${DELAY} ms before | p50 ms at ${DELAY} ms after |`
    : `| request | status | sequential | all | timed | p50 ms at 0 | p50 ms at ${DELAY} ms |`,
  baseline
    ? '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
    : '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...probes.map(({ name }) => {
    const a = now.far.get(name)!;
    if (!baseline) {
      return `| ${name} | ${a.status} | ${a.sequential} | ${a.trips} | ${estimate(now, name)} | ${Math.round(now.near.get(name)!.ms)} | ${Math.round(a.ms)} |`;
    }
    const b = baseline.far.get(name)!;
    return `| ${name} | ${a.status} | ${b.sequential} | ${a.sequential} | ${b.trips} | ${a.trips} | ${estimate(baseline, name)} | ${estimate(now, name)} | ${Math.round(b.ms)} | ${Math.round(a.ms)} |`;
  }),
];
const markdown = lines.join('\n');
console.log(markdown);
if (process.env.BENCH_WRITE !== '0') writeSection('bench-round-trips', markdown);
process.exit(0);
