/**
 * `npx tsx scripts/bench/profile.ts`: where the portal's CPU goes per request (issue 12). Seeds the
 * bench:api organisation on PostgreSQL, then for each case starts the compiled server
 * (dist/main.js, `npm run build` first) under `node --cpu-prof`, loads it with autocannon for
 * BENCH_SECONDS, stops it and prints the profile's top functions by self time and by total
 * (subtree) time, with requests/s and the server's CPU ms per request (from /proc).
 *
 * PROFILE_CASES=<regular expression> picks cases; PROFILE_DIR keeps the .cpuprofile files.
 * Run it under the shared lock: `flock /work/bench.lock npx tsx scripts/bench/profile.ts`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { openDatabase } from '../../src/db/open.ts';
import {
  cpuMs,
  freshBenchDatabase,
  seedBenchOrganisation,
  signIn,
  startServer,
  stopServer,
  tempDir,
} from './support.ts';

const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const TOP = Number(process.env.PROFILE_TOP ?? 25);
const PASSWORD = 'bench-password-2026';
const JWT_SECRET = 'bench-secret-bench-secret-bench-secret-000';
const SIZE = { managers: 50, users: 1000, projects: 100, tasks: 20_000 };
const PORT = Number(process.env.BENCH_PORT ?? 4621);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, a file of the portal, a Node module, or native. */
const home = (n: ProfileNode) => {
  const url = n.callFrame.url;
  if (!url) return `(native) ${n.callFrame.functionName}`;
  const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/dist/')) return `dist/${url.split('/dist/')[1]}`;
  return url.startsWith('node:') ? url : 'other';
};

const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/.*\/node_modules\//, '')
    .replace(/.*\/dist\//, 'dist/');

/**
 * Self and total time per function (name + file + line) and per package or file, in % of the
 * samples taken between `from` and `to` (µs, the profile's monotonic clock): the measured load,
 * not start-up.
 */
export function summarise(profile: Profile, from: number, to: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) =>
    `${n.callFrame.functionName || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const selfHome = new Map<string, number>();
  const totalHome = new Map<string, number>();
  const counts = new Map<number, number>();
  let time = profile.startTime;
  profile.samples.forEach((s, i) => {
    time += profile.timeDeltas[i] ?? 0;
    if (time >= from && time <= to) counts.set(s, (counts.get(s) ?? 0) + 1);
  });
  let all = 0;
  const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);
  for (const [id, count] of counts) {
    all += count;
    const node = byId.get(id)!;
    add(self, key(node), count);
    add(selfHome, home(node), count);
    // Each function (and package) counted once per sample however deep it recurses.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = byId.get(at)!;
      for (const [k, m] of [
        [key(n), total],
        [home(n), totalHome],
      ] as const) {
        if (seen.has(k)) continue;
        seen.add(k);
        add(m, k, count);
      }
    }
  }
  const top = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([k, v]) => `${((100 * v) / all).toFixed(1).padStart(5)} %  ${k}`);
  return {
    self: top(self),
    total: top(total),
    selfHome: top(selfHome),
    totalHome: top(totalHome),
    samples: all,
  };
}

async function load(url: string, token: string) {
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: DURATION,
    headers: { authorization: `Bearer ${token}` },
  });
  return { rps: Math.round(r.requests.average), requests: r.requests.total, bad: r.non2xx + r.errors };
}

const pgDb = await freshBenchDatabase('profile');
try {
  const database = await openDatabase({ driver: 'pg', url: pgDb.url });
  const { org, manager } = await seedBenchOrganisation(database.db, SIZE, PASSWORD);
  await database.close();
  const people = { user: org.users[0]!, manager };
  const cases: [string, keyof typeof people, string][] = [
    ['GET /api/tasks?limit=50 (user)', 'user', '/api/tasks?limit=50'],
    ['GET /api/tasks?limit=50 (manager)', 'manager', '/api/tasks?limit=50'],
    ['GET /api/me (user)', 'user', '/api/me'],
  ];
  const wanted = new RegExp(process.env.PROFILE_CASES ?? '');
  const keep = process.env.PROFILE_DIR;
  for (const [name, who, path] of cases.filter(([n]) => wanted.test(n))) {
    const dir = keep ? join(keep, name.replace(/\W+/g, '-')) : tempDir('profile');
    const server = await startServer(
      { DATABASE_URL: pgDb.url, JWT_SECRET },
      PORT,
      undefined,
      `--cpu-prof --cpu-prof-dir=${dir} dist/main.js`,
    );
    const base = `http://127.0.0.1:${PORT}`;
    let from = 0;
    let to = 0;
    try {
      const token = await signIn(base, people[who], PASSWORD);
      // Warm-up (JIT, pool connections, plan cache), outside the measured CPU but in the profile.
      await autocannon({
        url: `${base}${path}`,
        connections: CONNECTIONS,
        duration: 2,
        headers: { authorization: `Bearer ${token}` },
      });
      const cpuBefore = cpuMs(server.pid!);
      from = Number(process.hrtime.bigint() / 1000n);
      const result = await load(`${base}${path}`, token);
      to = Number(process.hrtime.bigint() / 1000n);
      const cpu = cpuMs(server.pid!) - cpuBefore;
      console.log(
        `\n## ${name}: ${result.rps} req/s, ${result.bad} non-2xx, server CPU ${(cpu / result.requests).toFixed(3)} ms/request (process incl. GC and I/O threads)`,
      );
    } finally {
      await stopServer(server);
    }
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error(`no profile in ${dir}`);
    // The profile's clock and hrtime are both CLOCK_MONOTONIC in µs: only the measured seconds count.
    const s = summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile, from, to);
    console.log(`\n${s.samples} samples in the measured ${DURATION} s`);
    console.log(`\nself, by package or file:\n${s.selfHome.join('\n')}`);
    console.log(`\ntotal (subtree), by package or file:\n${s.totalHome.join('\n')}`);
    console.log(`\nself, by function:\n${s.self.join('\n')}`);
    console.log(`\ntotal (subtree), by function:\n${s.total.join('\n')}`);
  }
} finally {
  await pgDb.drop();
}
