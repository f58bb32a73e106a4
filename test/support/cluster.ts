import { type ChildProcess, spawn } from 'node:child_process';
import { REDIS_URL, RUN_ID } from './env.js';
import { freshPgDatabase } from './pg.js';

export const ADMIN = { username: 'chief', password: 'a-long-admin-password' };

export interface Instance {
  port: number;
  base: string;
  wsBase: string;
  /** The internal metrics port's base URL (`${metricsBase}/metrics`): never the public port. */
  metricsBase: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM (drain) or SIGKILL (crash), and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface ClusterOptions {
  heartbeatMs?: number;
  sessionTtlSeconds?: number;
  sweepMs?: number;
  /** Database URL to share (default: a fresh database for this cluster). */
  databaseUrl?: string;
  redisUrl?: string;
  env?: Record<string, string>;
}

/** Starts one real portal process (`src/main.ts`) against the given PostgreSQL and Redis. */
export async function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    // PORT=0 and METRICS_PORT=0: each process gets free ports of its own.
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const [port, metricsPort] = await new Promise<[number, number]>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /running: http:\/\/[^:]+:(\d+)\//.exec(output);
      const metrics = /metrics \(internal port\): http:\/\/\S+:(\d+)\/metrics/.exec(output);
      if (match && metrics) {
        clearInterval(timer);
        resolve([Number(match[1]), Number(metrics[1])]);
      }
    }, 25);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`instance exited (${code}): ${output}`));
    });
  });
  return {
    port,
    base: `http://127.0.0.1:${port}`,
    wsBase: `ws://127.0.0.1:${port}`,
    metricsBase: `http://127.0.0.1:${metricsPort}`,
    child,
    output: () => output,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/**
 * Several portal processes behind one fresh PostgreSQL database and one Redis prefix, as in
 * production. The first instance to start creates the admin `chief`.
 */
export async function startCluster(count: number, options: ClusterOptions = {}) {
  const db = options.databaseUrl ? undefined : await freshPgDatabase('cluster');
  const databaseUrl = options.databaseUrl ?? db!.url;
  const prefix = `${RUN_ID}:${Math.random().toString(36).slice(2, 8)}`;
  const env = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: options.redisUrl ?? REDIS_URL,
    REDIS_PREFIX: prefix,
    JWT_SECRET: 'cluster-test-secret-cluster-test-secret',
    MFA_ENCRYPTION_KEY: 'cluster-test-mfa-key-cluster-test-mfa-key',
    PORTAL_ADMIN_USERNAME: ADMIN.username,
    PORTAL_ADMIN_PASSWORD: ADMIN.password,
    HEARTBEAT_INTERVAL_MS: String(options.heartbeatMs ?? 2000),
    SESSION_TTL_SECONDS: String(options.sessionTtlSeconds ?? 60),
    REALTIME_SWEEP_MS: String(options.sweepMs ?? 2000),
    ...options.env,
  };
  // One at a time at first so the admin exists before the others start (they would wait anyway).
  const instances: Instance[] = [await startInstance(env)];
  instances.push(...(await Promise.all(Array.from({ length: count - 1 }, () => startInstance(env)))));
  return {
    instances,
    databaseUrl,
    prefix,
    env,
    /** Starts one more instance of the same cluster. */
    add: async () => {
      const instance = await startInstance(env);
      instances.push(instance);
      return instance;
    },
    async stop() {
      await Promise.all(instances.map((i) => i.stop('SIGKILL')));
      await db?.drop();
    },
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;
