import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll } from 'vitest';
import { REDIS_URL, RUN_ID } from './env.ts';
import { signIn } from './live-client.ts';
import { migratedPgDatabase } from './pg.ts';

export const ADMIN = { username: 'chief', password: 'a-long-admin-password' };

/** Which runtime runs a portal process: Node (`src/main.ts`) or Deno (`src/main.deno.ts`). */
export type RuntimeName = 'node' | 'deno';

/**
 * The runtime instances start under unless a test names one: `TEST_RUNTIME=deno` runs the
 * instance-based tests against Deno (as .ci/run does for the API and realtime ones).
 */
export const DEFAULT_RUNTIME: RuntimeName = process.env.TEST_RUNTIME === 'deno' ? 'deno' : 'node';

/**
 * The command line of one instance. Deno's is `deno task start`'s own (deno.json), so the tests
 * run the portal with exactly the permissions the README documents, and no unstable flag (the
 * sources import `./x.ts` as written; scripts/ts-specifiers.ts keeps them so).
 */
export function commandFor(runtime: RuntimeName): [string, string[]] {
  if (runtime === 'node') return [process.execPath, ['--import', 'tsx', 'src/main.ts']];
  const deno = JSON.parse(readFileSync('deno.json', 'utf8')) as { tasks: { start: string } };
  const words = deno.tasks.start.split(/\s+/);
  const args = words.slice(words.indexOf('run') + 1);
  return [denoExecutable(), ['run', ...args]];
}

/**
 * The `deno` executable the npm package `deno` installed (a devDependency), run directly: its
 * `bin.cjs` wrapper is a Node process that would not pass SIGTERM on to the portal.
 */
export function denoExecutable(): string {
  const api = createRequire(import.meta.url)('deno/install_api.cjs') as { runInstall(): string };
  return api.runInstall();
}

export interface Instance {
  runtime: RuntimeName;
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
  /** The runtime of each instance, in start order (default: all `DEFAULT_RUNTIME`). */
  runtimes?: RuntimeName[];
}

/** Starts one real portal process (`src/main.ts`, or `src/main.deno.ts`) against the given PostgreSQL and Redis. */
export async function startInstance(
  env: Record<string, string>,
  runtime: RuntimeName = DEFAULT_RUNTIME,
): Promise<Instance> {
  const [command, args] = commandFor(runtime);
  const child = spawn(command, args, {
    // PORT=0 and METRICS_PORT=0: each process gets free ports of its own.
    // DENO_NO_UPDATE_CHECK: no look-up of newer Deno releases from a test process.
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      DENO_NO_UPDATE_CHECK: '1',
      ...env,
    },
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
    runtime,
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
 * Several portal processes behind one fresh PostgreSQL database (migrated: a copy of the run's
 * template, test/support/pg.ts) and one Redis prefix, as in production. The first instance to start creates the admin `chief`.
 */
export async function startCluster(count: number, options: ClusterOptions = {}) {
  const db = options.databaseUrl ? undefined : await migratedPgDatabase('cluster');
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
  const runtimeOf = (i: number) => options.runtimes?.[i] ?? DEFAULT_RUNTIME;
  // One at a time at first so the admin exists before the others start (they would wait anyway).
  const instances: Instance[] = [await startInstance(env, runtimeOf(0))];
  instances.push(
    ...(await Promise.all(Array.from({ length: count - 1 }, (_, i) => startInstance(env, runtimeOf(i + 1))))),
  );
  return {
    instances,
    databaseUrl,
    prefix,
    env,
    /** Starts one more instance of the same cluster. */
    add: async (runtime: RuntimeName = DEFAULT_RUNTIME) => {
      const instance = await startInstance(env, runtime);
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

/**
 * A cluster for the describe block that calls it: started before its tests with the admin
 * signed in on the first instance, stopped after them with every socket the tests `track`ed.
 * Fields are set in beforeAll; read them inside tests.
 */
export function useCluster(count: number, options: ClusterOptions = {}) {
  const live = { sockets: [] as { ws?: { terminate(): void } | undefined }[] } as {
    cluster: Cluster;
    /** The admin's bearer token, signed in on the first instance. */
    admin: string;
    sockets: { ws?: { terminate(): void } | undefined }[];
  };
  beforeAll(async () => {
    live.cluster = await startCluster(count, options);
    live.admin = await signIn(live.cluster.instances[0]!.base, ADMIN.username, ADMIN.password);
  }, 60_000);
  afterAll(async () => {
    for (const s of live.sockets) s.ws?.terminate();
    await live.cluster?.stop();
  });
  return live;
}
