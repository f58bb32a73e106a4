import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { createApp } from './app.ts';
import { socketSignIn } from './auth/middleware.ts';
import { SecretBox } from './auth/secret-box.ts';
import { EmbeddedSignInCache, type SignInCache } from './auth/sign-in-cache.ts';
import { RedisSignInCache } from './auth/sign-in-cache-redis.ts';
import { LoginThrottle } from './auth/throttle.ts';
import { TokenService } from './auth/tokens.ts';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import { openDatabase } from './db/open.ts';
import { buildAssets } from './http/assets.ts';
import { isSameOrigin } from './http/middleware/client.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import type { Platform } from './platform/platform.ts';
import { createRealtime, type Realtime } from './realtime/index.ts';

/** Everything long-lived the portal needs, built once: the process entry and tests share it. */
export interface Runtime {
  app: ReturnType<typeof createApp>;
  database: Database;
  redis: Redis | undefined;
  logger: Logger;
  realtime: Realtime;
  /** Prometheus instruments; served on their own port by the process entry (`METRICS_PORT`). */
  metrics: Metrics;
  /** The runtime it was built for: serves the app (`/ws` included) and the metrics port. */
  platform: Platform;
  close(): Promise<void>;
}

/** Embedded mode keeps one generated secret beside its data, so sign-ins survive a restart. */
function embeddedSecret(config: Config, name = 'jwt-secret'): string {
  if (config.database.driver !== 'pglite' || !config.database.dataDir)
    return randomBytes(32).toString('base64url');
  const file = join(dirname(config.database.dataDir), name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

export async function buildRuntime(
  config: Config,
  options: { platform: Platform; logger?: Logger; wsProxy?: string },
): Promise<Runtime> {
  const logger =
    options.logger ??
    pino({
      level: config.logLevel,
      base: { instance: process.env.FLY_MACHINE_ID ?? process.pid },
      redact: {
        paths: ['password', '*.password', 'token', '*.token', 'authorization', 'cookie'],
        censor: '[redacted]',
      },
    });
  const database = await openDatabase(config.database, options.wsProxy ? { wsProxy: options.wsProxy } : {});
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: false, lazyConnect: false })
    : undefined;
  const metrics = createMetrics();
  redis?.on('error', (error) => {
    metrics.errors.inc({ component: 'redis' });
    logger.warn({ err: error.message }, 'redis error');
  });
  const tokens = new TokenService(config.jwtSecret ?? embeddedSecret(config), config.tokenTtlSeconds);
  const throttle = new LoginThrottle(
    undefined,
    redis ? { client: redis, prefix: config.redisPrefix } : undefined,
  );
  if (!config.mfaEncryptionKey && config.database.driver !== 'pglite') {
    logger.warn(
      'MFA_ENCRYPTION_KEY is not set: two-factor secrets enrolled now become unreadable at the next restart',
    );
  }
  const mfa = new SecretBox(config.mfaEncryptionKey ?? embeddedSecret(config, 'mfa-key'));
  const signInCache = createSignInCache(config, redis, metrics, logger);
  const realtime = createRealtime({
    database,
    redis,
    prefix: config.redisPrefix,
    logger,
    sessionTtlSeconds: config.sessionTtlSeconds,
    heartbeatMs: config.heartbeatIntervalMs,
    sweepMs: config.realtimeSweepMs,
    maxSocketsPerUser: config.realtimeMaxSocketsPerUser,
    maxOpening: config.realtimeMaxOpening,
    retentionDays: config.changeLogRetentionDays,
    metrics,
    // Out-of-band sign-in changes (psql): every instance's cache dropped at once, not after
    // SIGN_IN_CACHE_SECONDS (docs/decisions/0032). The portal's own are also acknowledged (0029).
    ...(signInCache ? { onSignInChange: () => void signInCache.invalidate() } : {}),
  });
  const app = createApp({
    signInCache,
    database,
    tokens,
    throttle,
    logger,
    revokeRealtime: realtime.revoke,
    mfa,
    refreshRealtime: realtime.refresh,
    storedDashboard: async (userId) => (await realtime.store.getDocs([userId])).get(userId)?.doc,
    assets: buildAssets(),
    metrics,
    trustProxy: config.trustProxy,
    connectionAddress: options.platform.connectionAddress,
    ...(redis ? { readiness: { redis: async () => void (await redis.ping()) } } : {}),
  });
  realtime.gateway.register(
    app,
    options.platform.sockets(app),
    (c) => ({
      actor: c.get('actor'),
      // A cookie rides along with any page's request: only this portal's own pages may use it.
      originAllowed: c.get('authVia') !== 'cookie' || isSameOrigin(c, config.trustProxy),
    }),
    // Where the platform takes upgrades before the app (Node): the same token and Origin rules.
    (header) => {
      const { claims, originAllowed } = socketSignIn({ tokens, trustProxy: config.trustProxy }, header);
      return { signIn: claims, originAllowed };
    },
  );
  return {
    app,
    database,
    redis,
    logger,
    realtime,
    metrics,
    platform: options.platform,
    close: async () => {
      await realtime.drain();
      await signInCache?.close();
      redis?.disconnect();
      await database.close();
    },
  };
}

/**
 * The sign-in cache for this deployment (docs/decisions/0029): in process with PGlite (one process
 * owns the database), over Redis pub/sub with Redis, none with PostgreSQL alone (other instances
 * may share the database with no bus to tell this one) or SIGN_IN_CACHE_SECONDS=0.
 */
function createSignInCache(
  config: Config,
  redis: Redis | undefined,
  metrics: Metrics,
  logger: Logger,
): SignInCache | undefined {
  if (config.signInCacheSeconds === 0) return undefined;
  const options = { maxAgeMs: config.signInCacheSeconds * 1000, metrics, logger };
  if (redis) {
    const subscriber = redis.duplicate({
      // Named, so that an operator (or a test) can find this connection in CLIENT LIST.
      connectionName: `${config.redisPrefix}:signin:${process.pid}`,
      autoResubscribe: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    subscriber.on('error', () => metrics.errors.inc({ component: 'redis' }));
    return new RedisSignInCache(redis, subscriber, config.redisPrefix, options);
  }
  return config.database.driver === 'pglite' ? new EmbeddedSignInCache(options) : undefined;
}
