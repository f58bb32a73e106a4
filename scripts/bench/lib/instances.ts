/** Portal processes (`src/main.ts`) for a benchmark, each on its own ports, killed when it ends. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, startServer } from '../support.ts';
import { benchDatabase } from './database.ts';
import { defer } from './run.ts';

export interface Instance {
  base: string;
  wsBase: string;
  /** The internal Prometheus endpoint's origin. */
  metricsBase: string;
  child: ChildProcess;
  /** The node process itself (spawnNode `exec`s it). */
  pid: number;
}

export interface PortalSetup {
  /** `realtime`, `cluster`: names the JWT secret. */
  label: string;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  admin: { username: string; password: string };
}

/** The environment every benchmarked instance shares: database, Redis, secrets, bootstrap admin, 15 s heartbeat. */
export const portalEnv = (s: PortalSetup): Record<string, string> => ({
  DATABASE_URL: s.databaseUrl,
  REDIS_URL: s.redisUrl,
  REDIS_PREFIX: s.redisPrefix,
  JWT_SECRET: `bench-${s.label}-secret-bench-${s.label}-secret`,
  // Required with Redis: every instance must read the two-factor secrets the others sealed.
  MFA_ENCRYPTION_KEY: `bench-${s.label}-mfa-key-bench-${s.label}-mfa-key`,
  PORTAL_ADMIN_USERNAME: s.admin.username,
  PORTAL_ADMIN_PASSWORD: s.admin.password,
  HEARTBEAT_INTERVAL_MS: '15000',
});

export async function startInstance(
  env: Record<string, string>,
  /** `dist/main.js` for the compiled server (npm run build first). */
  entry = 'src/main.ts',
): Promise<Instance> {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = await startServer({ ...env, METRICS_PORT: String(metricsPort) }, port, undefined, entry);
  defer(() => child.exitCode === null && child.kill('SIGKILL'));
  const pid = child.pid!;
  if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(entry))
    throw new Error('server pid is not the node process');
  return {
    base: `http://127.0.0.1:${port}`,
    wsBase: `ws://127.0.0.1:${port}`,
    metricsBase: `http://127.0.0.1:${metricsPort}`,
    child,
    pid,
  };
}

/** `count` instances: the first alone (it runs the migrations), the others together. */
export async function startInstances(env: Record<string, string>, count: number): Promise<Instance[]> {
  const first = await startInstance(env);
  return [first, ...(await Promise.all(Array.from({ length: count - 1 }, () => startInstance(env))))];
}

export async function stopInstance(instance: Instance) {
  instance.child.kill('SIGTERM');
  await new Promise((r) => (instance.child.exitCode !== null ? r(null) : instance.child.once('exit', r)));
}

/** The open-files limit the process runs with. */
export const openFilesLimit = (pid: number) =>
  /Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1];

/** Whether the instance holds the realtime leadership (from its metrics). */
export async function isLeader(instance: Instance): Promise<boolean> {
  const text = await (await fetch(`${instance.metricsBase}/metrics`)).text();
  return /portal_realtime_leader (\d)/.exec(text)?.[1] === '1';
}

/** Redis for every benchmark (BENCH_REDIS_URL). */
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A fresh database, a Redis key prefix of its own (`bench-<label>-<time>`, dropped by the
 * benchmark at the end), and the environment for instances on them, `env` added.
 */
export async function planPortal(
  label: string,
  admin: { username: string; password: string },
  env: Record<string, string>,
) {
  const fresh = await benchDatabase(label);
  const redisPrefix = `bench-${label}-${Date.now().toString(36)}`;
  const portal = portalEnv({ label, databaseUrl: fresh.url, redisUrl: REDIS_URL, redisPrefix, admin });
  return { ...fresh, redisPrefix, env: { ...portal, ...env } };
}
