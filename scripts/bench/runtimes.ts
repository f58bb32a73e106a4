/**
 * Node and Deno side by side, in one run (docs/decisions/0020-deno-first-class-runtime.md): the
 * same portal started under each runtime (`src/main.ts` with tsx, `src/main.deno.ts` with deno.json's
 * permissions), one at a time, each on a fresh PostgreSQL database and Redis prefix. For each:
 * API requests/s (autocannon, GET /api/tasks), sessions held with the server's memory per
 * session, and write-to-client latency (an SQL UPDATE → the delta received).
 *
 *   npm run bench:runtimes      # BENCH_SESSIONS (600), BENCH_SECONDS (10), BENCH_WRITES (60)
 */
import { execFileSync } from 'node:child_process';
import autocannon from 'autocannon';
import pg from 'pg';
import WebSocket from 'ws';
import {
  denoExecutable,
  type Instance,
  type RuntimeName,
  startInstance,
} from '../../test/support/cluster.ts';
import { dropRedisPrefix, freshBenchDatabase, machine, pct, rssKb, signIn, writeSection } from './support.ts';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 600);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WRITES = Number(process.env.BENCH_WRITES ?? 60);
const PER_USER = 30; // sockets per user (under REALTIME_MAX_SOCKETS_PER_USER)
const ADMIN = { username: 'chief', password: 'a-long-admin-password' };
const PASSWORD = 'a-long-bench-password';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Result {
  runtime: RuntimeName;
  version: string;
  rps: number;
  p99: number;
  errors: number;
  sessions: number;
  kbPerSession: number;
  rssMb: number;
  latency: number[];
}

async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return (await res.json()) as { id: number };
}

async function measure(runtime: RuntimeName): Promise<Result> {
  const db = await freshBenchDatabase(`rt_${runtime}`);
  const prefix = `bench-rt-${runtime}-${Date.now().toString(36)}`;
  let instance: Instance | undefined;
  const sockets: WebSocket[] = [];
  const sql = new pg.Client({ connectionString: db.url });
  try {
    instance = await startInstance(
      {
        DATABASE_URL: db.url,
        REDIS_URL,
        REDIS_PREFIX: prefix,
        JWT_SECRET: 'bench-runtimes-secret-bench-runtimes-secret',
        MFA_ENCRYPTION_KEY: 'bench-runtimes-mfa-key-bench-runtimes-mfa-key',
        PORTAL_ADMIN_USERNAME: ADMIN.username,
        PORTAL_ADMIN_PASSWORD: ADMIN.password,
        REALTIME_SWEEP_MS: '600000',
        // Sign-ins from one address, many of them: the throttle is not what is measured.
        LOG_LEVEL: 'error',
      },
      runtime,
    );
    const { base, wsBase } = instance;
    const pid = instance.child.pid!;
    const admin = await signIn(base, ADMIN.username, ADMIN.password);
    const me = (await (
      await fetch(`${base}/api/me`, { headers: { authorization: `Bearer ${admin}` } })
    ).json()) as { id: number };
    const project = await api(base, admin, 'POST', '/api/projects', { name: 'Bench', owner_id: me.id });
    const users = Math.ceil(SESSIONS / PER_USER);
    const people: { id: number; token: string; task: number }[] = [];
    for (let i = 0; i < users; i++) {
      const user = await api(base, admin, 'POST', '/api/users', {
        username: `bench${i}`,
        password: PASSWORD,
        role: 'user',
      });
      const task = await api(base, admin, 'POST', '/api/tasks', {
        project_id: project.id,
        title: `Bench ${i}`,
        assignee_id: user.id,
      });
      people.push({ id: user.id, token: await signIn(base, `bench${i}`, PASSWORD), task: task.id });
    }

    console.error(`[${runtime}] API: GET /api/tasks for ${SECONDS} s`);
    const load = await autocannon({
      url: `${base}/api/tasks`,
      connections: 20,
      duration: SECONDS,
      headers: { authorization: `Bearer ${admin}` },
    });

    await sleep(1000);
    const before = rssKb(pid);
    console.error(`[${runtime}] opening ${SESSIONS} sessions`);
    const deltas = new Map<number, (at: number) => void>();
    for (let i = 0; i < SESSIONS; i++) {
      const person = people[i % users]!;
      const ws = new WebSocket(`${wsBase}/ws`, { headers: { authorization: `Bearer ${person.token}` } });
      sockets.push(ws);
      await new Promise<void>((resolve, reject) => {
        ws.on('error', reject);
        ws.on('message', (data) => {
          const frame = JSON.parse(String(data)) as { type: string };
          if (frame.type === 'snapshot') resolve();
          if (frame.type === 'delta' && i < users) deltas.get(person.id)?.(performance.now());
        });
      });
    }
    await sleep(2000);
    const after = rssKb(pid);
    const open = sockets.filter((s) => s.readyState === WebSocket.OPEN).length;

    console.error(`[${runtime}] ${WRITES} writes, each timed to its delta`);
    await sql.connect();
    const latency: number[] = [];
    for (let w = 0; w < WRITES; w++) {
      const person = people[w % users]!;
      const arrived = new Promise<number>((resolve) => deltas.set(person.id, resolve));
      const sent = performance.now();
      await sql.query(`update tasks set status = $1 where id = $2`, [
        // Each task starts as `todo`: every pass over the users flips them all.
        Math.floor(w / users) % 2 ? 'todo' : 'in_progress',
        person.task,
      ]);
      const at = await Promise.race([arrived, sleep(10_000).then(() => Number.NaN)]);
      latency.push(at - sent);
      await sleep(50);
    }
    const version =
      runtime === 'deno'
        ? execFileSync(denoExecutable(), ['--version'], { encoding: 'utf8' }).split('\n')[0]!
        : `Node ${process.version}`;
    return {
      runtime,
      version,
      rps: Math.round(load.requests.average),
      p99: load.latency.p99,
      errors: load.errors + load.timeouts + load.non2xx,
      sessions: open,
      kbPerSession: Math.round(((after - before) / Math.max(1, open)) * 10) / 10,
      rssMb: Math.round(after / 1024),
      latency,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await sql.end().catch(() => {});
    await instance?.stop('SIGKILL');
    await db.drop();
    await dropRedisPrefix(REDIS_URL, prefix);
  }
}

async function main() {
  const results: Result[] = [];
  for (const runtime of ['node', 'deno'] as const) results.push(await measure(runtime));
  const ms = (v: number) => (Number.isNaN(v) ? 'lost' : `${v.toFixed(1)} ms`);
  const rows = results.map(
    (r) =>
      `| ${r.runtime} | ${r.rps} | ${r.p99} ms | ${r.errors} | ${r.sessions} | ${r.kbPerSession} KB | ${r.rssMb} MB | ${ms(pct(r.latency, 50))} | ${ms(pct(r.latency, 99))} |`,
  );
  const body = [
    '## Node and Deno side by side',
    '',
    `Machine: ${machine()}; Deno from the npm package \`deno\` (${results.find((r) => r.runtime === 'deno')?.version ?? ''}). One portal process at a time, each on a fresh PostgreSQL 15 database and Redis 7 prefix on the same machine; the load generator (autocannon, \`ws\` clients) runs in the benchmark's own Node process. API: \`GET /api/tasks\` as the admin, 20 connections, ${SECONDS} s. Sessions: ${SESSIONS} sockets (${PER_USER} per user); memory per session = the server's RSS growth while they opened, divided by the sockets held. Latency: ${WRITES} \`UPDATE tasks\` from a separate connection, each timed to its delta at a client (\`npm run bench:runtimes\`).`,
    '',
    '| runtime | API req/s | API p99 | errors | sessions held | memory per session | RSS with sessions | write→client p50 | p99 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
  writeSection('runtimes', body);
  console.log(body);
}

main()
  .then(() => process.exit(0))
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
