import { type ChildProcess, execSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import pg from 'pg';
import { hashPassword } from '../../src/auth/passwords.ts';
import type { Db } from '../../src/db/database.ts';
import { projects } from '../../src/db/schema/projects.ts';
import { users } from '../../src/db/schema/users.ts';
import { seedOrganisation } from '../../src/db/seed/organisation.ts';

export const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM (${Math.round(freemem() / 2 ** 30)} free), Node ${process.version}`;
}

export async function freshBenchDatabase(label: string) {
  const name = `bench_${label}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    },
  };
}

export const tempDir = (label: string) => mkdtempSync(join(tmpdir(), `portal-bench-${label}-`));

/**
 * Starts `src/main.ts` as its own process (the load generator must not share its event loop),
 * with the raised open-files limit of `spawnNode`; resolves once `/healthz` answers.
 */
export async function startServer(
  env: Record<string, string>,
  port: number,
  /** Another checkout's root (a baseline to compare with); default: this one. */
  cwd?: string,
  /** `dist/main.js` for the compiled server (npm run build first). */
  entry = 'src/main.ts',
): Promise<ChildProcess> {
  const child = spawnNode(
    [entry],
    // METRICS_PORT=0 unless given: a free internal metrics port, so that servers never clash on it.
    { LOG_LEVEL: 'warn', PORTAL_DEMO: '0', METRICS_PORT: '0', ...env, PORT: String(port), HOST: '127.0.0.1' },
    false,
    cwd,
  );
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited: ${output}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not start: ${output}`);
}

export async function stopServer(child: ChildProcess) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in docs/benchmarks.md. */
export function writeSection(name: string, body: string) {
  const file = 'docs/benchmarks.md';
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  let text = readFileSync(file, 'utf8');
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  text =
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}

/** Node (with tsx) with the file-descriptor limit raised to the hard limit: thousands of sockets need more than 1,024. */
export function spawnNode(
  args: string[],
  env: Record<string, string>,
  ipc: boolean,
  cwd?: string,
): ChildProcess {
  const command = `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "${process.execPath}" --import tsx ${args.join(' ')}`;
  return spawn('bash', ['-c', command], {
    ...(cwd ? { cwd } : {}),
    env: { ...process.env, ...env },
    stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
}

export { signIn } from '../../test/support/live-client.ts';
export { freePort } from '../../test/support/net.ts';

/** One request to a load-generator process over IPC, and its one reply. */
export function ask<T>(worker: ChildProcess, message: unknown): Promise<T> {
  return new Promise((resolve) => {
    worker.once('message', (reply) => resolve(reply as T));
    worker.send(message as object);
  });
}

/** The p-th percentile (nearest rank) of `values`. */
export function pct(values: number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
    : Number.NaN;
}

/** Resident memory of a process, in KB. */
export const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
/** User + system CPU time of a process in ms (0 once it is gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Deletes every Redis key of one benchmark run. */
export async function dropRedisPrefix(url: string, prefix: string) {
  const redis = new Redis(url);
  let scan = '0';
  do {
    const [next, found] = await redis.scan(scan, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (found.length) await redis.del(...found);
    scan = next;
  } while (scan !== '0');
  redis.disconnect();
}

/** Runs a benchmark, then its clean-up steps in reverse order whatever happened, then exits. */
export async function runBench(main: () => Promise<void>, cleanup: (() => unknown)[]) {
  try {
    await main();
  } finally {
    for (const step of cleanup.reverse()) await Promise.resolve(step()).catch(() => {});
  }
  process.exit(0);
}

/**
 * The benchmarks' organisation: `size` seeded with one password (one argon2 hash for everyone),
 * an admin `bench.admin`, and the first manager with one of their projects.
 */
export async function seedBenchOrganisation(
  db: Db,
  size: { managers: number; users: number; projects: number; tasks: number },
  password: string,
) {
  const hash = await hashPassword(password);
  const org = await seedOrganisation(db, { ...size, passwordHash: async () => hash });
  await db.insert(users).values({ username: 'bench.admin', role: 'admin', password_hash: hash });
  const manager = org.managers[0]!;
  const [m] = await db.select({ id: users.id }).from(users).where(eq(users.username, manager));
  const [project] = await db.select({ id: projects.id }).from(projects).where(eq(projects.owner_id, m!.id));
  return { org, manager, managerId: m!.id, projectId: project!.id };
}
