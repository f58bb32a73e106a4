import { Writable } from 'node:stream';
import pino from 'pino';
import { createApp } from '../../src/app.ts';
import { EmbeddedSignInCache, type SignInCache } from '../../src/auth/sign-in-cache.ts';
import { LoginThrottle, type ThrottleLimits } from '../../src/auth/throttle.ts';
import { TokenService } from '../../src/auth/tokens.ts';
import type { Database } from '../../src/db/database.ts';
import { openDatabase } from '../../src/db/open.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { startNeonRelay } from './neon-relay.ts';
import { migratedPgDatabase } from './pg.ts';
import { withPgliteTemplate } from './pglite.ts';

export type DriverName = 'pglite' | 'pg' | 'neon';

export interface TestApp {
  app: ReturnType<typeof createApp>;
  database: Database;
  /** The PostgreSQL URL of the fresh database (pg and neon drivers). */
  url: string | undefined;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  /** The sign-in cache, as src/server.ts makes it: in process on PGlite, none on PostgreSQL without Redis. */
  signInCache: SignInCache | undefined;
  tokens: TokenService;
  metrics: ReturnType<typeof createMetrics>;
  close(): Promise<void>;
}

/** Opens a fresh (migrated) database on the given driver and builds the app on it, as `src/server.ts` does. */
export async function startTestApp(
  driver: DriverName,
  options: {
    limits?: Partial<ThrottleLimits>;
    trustProxy?: boolean;
    /** false: no sign-in cache even on PGlite (every request reads its sign-in, as on PostgreSQL alone). */
    signInCache?: boolean;
  } = {},
): Promise<TestApp> {
  const cleanups: (() => Promise<void>)[] = [];
  let database: Database;
  let url: string | undefined;
  if (driver === 'pglite') {
    // In memory, from the run's migrated template (test/support/global-setup.ts).
    database = await withPgliteTemplate(() => openDatabase({ driver: 'pglite', dataDir: undefined }));
  } else {
    const fresh = await migratedPgDatabase(driver);
    cleanups.push(fresh.drop);
    url = fresh.url;
    if (driver === 'pg') {
      database = await openDatabase({ driver: 'pg', url: fresh.url });
    } else {
      const relay = await startNeonRelay();
      cleanups.push(relay.close);
      database = await openDatabase({ driver: 'neon', url: fresh.url }, { wsProxy: relay.proxy });
    }
  }
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const metrics = createMetrics();
  const tokens = new TokenService(crypto.randomUUID() + crypto.randomUUID(), 3600);
  const signInCache =
    driver === 'pglite' && options.signInCache !== false
      ? new EmbeddedSignInCache({ maxAgeMs: 30_000, metrics })
      : undefined;
  const app = createApp({
    database,
    tokens,
    throttle: new LoginThrottle(options.limits),
    logger,
    trustProxy: options.trustProxy ?? true,
    metrics,
    signInCache,
  });
  return {
    app,
    database,
    url,
    logs,
    signInCache,
    tokens,
    metrics,
    async close() {
      await database.close();
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}
