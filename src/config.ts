import { z } from 'zod';

/**
 * Configuration from the environment (docs/contract.md §3), parsed once at boot.
 * A bad value stops start-up with one line naming the variable (see `loadConfig`).
 */
const flag = z.enum(['0', '1']).transform((v) => v === '1');
/** Digits only: `z.coerce` would turn ' ' into 0 and accept '0x1F90' or '1e3'. */
const whole = (min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .default(fallback);

const envSchema = z.object({
  PORT: whole(0, 65_535, 3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /**
   * Prometheus text on a port of its own, never the public one: Fly's `[metrics]` scrapes it over
   * the private network. 0: any free port (printed at start-up), like PORT=0.
   */
  METRICS_PORT: whole(0, 65_535, 9091),
  /** Where the metrics port listens; default HOST. Fly's private network is IPv6: `::`. */
  METRICS_HOST: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    .min(1)
    .refine((v) => /^(postgres(ql)?|memory|file):\/\//.test(v) || !v.includes('://'), {
      message: 'must be postgres://…, memory://, file://… or a directory path',
    })
    .optional(),
  /**
   * A direct connection for the realtime leader (LISTEN and a session advisory lock) when
   * DATABASE_URL goes through a transaction pooler (Neon's `-pooler` endpoint, PgBouncer).
   */
  DATABASE_LISTEN_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be postgres://…')
    .optional(),
  /** Connections in each instance's pool (plus one for the listener). */
  DATABASE_POOL_MAX: whole(1, 500, 10),
  /** Forces a driver when the URL alone cannot tell (a Neon endpoint behind a custom host name). */
  DATABASE_DRIVER: z.enum(['pglite', 'pg', 'neon']).optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - only, at most 64')
    .default('portal'),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** Seals two-factor (TOTP) secrets at rest; changing it makes enrolled authenticators unusable. */
  MFA_ENCRYPTION_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  SESSION_TTL_SECONDS: whole(1, 86_400, 300),
  HEARTBEAT_INTERVAL_MS: whole(100, 300_000, 15_000),
  /** Days the change log (the realtime feed and the audit trail) keeps a change; 0: forever. */
  CHANGE_LOG_RETENTION_DAYS: whole(0, 36_500, 0),
  /** Open realtime sockets one user may hold on one instance; one more is closed with 4429. */
  REALTIME_MAX_SOCKETS_PER_USER: whole(1, 10_000, 50),
  /** Realtime sockets opening at once per instance; one more upgrade is answered 503 + Retry-After. */
  REALTIME_MAX_OPENING: whole(1, 100_000, 200),
  /** The realtime leader's safety sweep: reads the change log even without a notification. */
  REALTIME_SWEEP_MS: whole(100, 3_600_000, 30_000),
  PORTAL_ADMIN_USERNAME: z.string().optional(),
  PORTAL_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  PORTAL_DEMO: flag.optional(),
  /**
   * The sign-in cache's safety net for writes made outside the portal (psql): a cached sign-in is
   * read again after this many seconds. 0: no cache (every request reads its sign-in). PostgreSQL
   * without REDIS_URL never caches (instances sharing it would have no bus).
   */
  SIGN_IN_CACHE_SECONDS: whole(0, 3600, 30),
  /** How long a sign-in token lives. */
  TOKEN_TTL_SECONDS: whole(60, 30 * 86_400, 12 * 3600),
  /** Trust `Fly-Client-IP` / `X-Forwarded-For` for the client address (only behind a proxy). */
  TRUST_PROXY: flag.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Env = z.infer<typeof envSchema>;

export type DatabaseTarget =
  | { driver: 'pglite'; dataDir: string | undefined } // undefined: in memory
  | {
      driver: 'pg' | 'neon';
      url: string;
      /** Where the listener connects (LISTEN, leader lock); default `url`. */
      listenUrl?: string;
      /** Pool size; default 10. */
      poolMax?: number;
    };

export interface Config {
  port: number;
  host: string;
  metrics: { port: number; host: string };
  database: DatabaseTarget;
  /** One process, in-process bus and session store, PGlite. */
  embedded: boolean;
  redisUrl: string | undefined;
  redisPrefix: string;
  jwtSecret: string | undefined;
  mfaEncryptionKey: string | undefined;
  sessionTtlSeconds: number;
  heartbeatIntervalMs: number;
  realtimeSweepMs: number;
  realtimeMaxSocketsPerUser: number;
  realtimeMaxOpening: number;
  changeLogRetentionDays: number;
  tokenTtlSeconds: number;
  /** The sign-in cache's maximum age; 0 when there is no cache. */
  signInCacheSeconds: number;
  admin: { username: string; password: string | undefined } | undefined;
  demo: boolean;
  trustProxy: boolean;
  logLevel: Env['LOG_LEVEL'];
}

export class ConfigError extends Error {}

function databaseTarget(env: Env): DatabaseTarget {
  const url = env.DATABASE_URL;
  if (!url) return { driver: 'pglite', dataDir: './data/pglite' };
  if (url === 'memory://' || url.startsWith('memory://')) return { driver: 'pglite', dataDir: undefined };
  if (url.startsWith('file://')) return { driver: 'pglite', dataDir: url.slice('file://'.length) };
  if (!url.includes('://')) return { driver: 'pglite', dataDir: url };
  const host = new URL(url).hostname;
  // A transaction pooler (Neon's `-pooler` host, PgBouncer) cannot LISTEN or keep the leader's
  // session advisory lock: realtime would silently never lead. It is fine for everything else.
  const pooler = (u: string) => /-pooler\./.test(new URL(u).hostname);
  const listenUrl = env.DATABASE_LISTEN_URL ?? url;
  if (pooler(listenUrl))
    throw new ConfigError(
      env.DATABASE_LISTEN_URL
        ? 'DATABASE_LISTEN_URL: must be a direct endpoint (host without -pooler)'
        : 'DATABASE_URL: a -pooler host needs DATABASE_LISTEN_URL set to the direct endpoint (the realtime leader needs LISTEN and a session lock)',
    );
  const driver = env.DATABASE_DRIVER ?? (host.endsWith('.neon.tech') ? 'neon' : 'pg');
  if (driver === 'pglite')
    throw new ConfigError('DATABASE_DRIVER: pglite needs a memory:// or directory DATABASE_URL');
  return { driver, url, listenUrl, poolMax: env.DATABASE_POOL_MAX };
}

export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset": `FOO= npm start` should behave like no FOO at all.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw new ConfigError(`${name}: ${issue.message}`);
  }
  const env = parsed.data;
  if (env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT) {
    throw new ConfigError('METRICS_PORT: must differ from PORT (metrics stay off the public port)');
  }
  const database = databaseTarget(env);
  const embedded = database.driver === 'pglite' && !env.REDIS_URL;
  if (env.REDIS_URL && !env.JWT_SECRET) {
    throw new ConfigError('JWT_SECRET: required when REDIS_URL is set (every instance must share it)');
  }
  if (env.REDIS_URL && database.driver === 'pglite') {
    throw new ConfigError(
      'DATABASE_URL: several instances (REDIS_URL set) need a shared PostgreSQL, not PGlite',
    );
  }
  if (env.REDIS_URL && !env.MFA_ENCRYPTION_KEY) {
    throw new ConfigError(
      'MFA_ENCRYPTION_KEY: required when REDIS_URL is set (every instance must read the two-factor secrets)',
    );
  }
  if (env.PORTAL_ADMIN_PASSWORD && !env.PORTAL_ADMIN_USERNAME) {
    throw new ConfigError('PORTAL_ADMIN_USERNAME: required when PORTAL_ADMIN_PASSWORD is set');
  }
  if (env.PORTAL_ADMIN_USERNAME && !env.PORTAL_ADMIN_PASSWORD && !embedded) {
    throw new ConfigError(
      'PORTAL_ADMIN_PASSWORD: required outside embedded mode when PORTAL_ADMIN_USERNAME is set',
    );
  }
  const adminName = env.PORTAL_ADMIN_USERNAME ?? (embedded ? 'admin' : undefined);
  return {
    port: env.PORT,
    host: env.HOST,
    metrics: { port: env.METRICS_PORT, host: env.METRICS_HOST ?? env.HOST },
    database,
    embedded,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    jwtSecret: env.JWT_SECRET,
    mfaEncryptionKey: env.MFA_ENCRYPTION_KEY,
    sessionTtlSeconds: env.SESSION_TTL_SECONDS,
    heartbeatIntervalMs: env.HEARTBEAT_INTERVAL_MS,
    realtimeSweepMs: env.REALTIME_SWEEP_MS,
    realtimeMaxSocketsPerUser: env.REALTIME_MAX_SOCKETS_PER_USER,
    realtimeMaxOpening: env.REALTIME_MAX_OPENING,
    changeLogRetentionDays: env.CHANGE_LOG_RETENTION_DAYS,
    tokenTtlSeconds: env.TOKEN_TTL_SECONDS,
    signInCacheSeconds: database.driver === 'pglite' || env.REDIS_URL ? env.SIGN_IN_CACHE_SECONDS : 0,
    admin: adminName ? { username: adminName, password: env.PORTAL_ADMIN_PASSWORD } : undefined,
    demo: env.PORTAL_DEMO ?? embedded,
    trustProxy: env.TRUST_PROXY,
    logLevel: env.LOG_LEVEL,
  };
}
