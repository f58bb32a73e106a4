import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { type Database, type Db, statementCounter } from '../database.ts';
import * as schema from '../schema/index.ts';
import { clientListener } from './pg-listener.ts';

/** Any PostgreSQL over TCP with node-postgres. */
export async function openPg(
  url: string,
  options: { max?: number; listenUrl?: string } = {},
): Promise<Database & { pool: pg.Pool }> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: 'portal',
    // An unreachable server fails the request (503) instead of holding it forever.
    connectionTimeoutMillis: 5000,
  });
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on('error', () => {});
  await pool.query('select 1');
  const { stats, logger } = statementCounter();
  const db = drizzle({ client: pool, schema, logger }) as unknown as Db;
  return {
    kind: 'pg',
    db,
    stats,
    pool,
    openListener: () =>
      clientListener(
        new pg.Client({
          connectionString: options.listenUrl ?? url,
          keepAlive: true,
          connectionTimeoutMillis: 10_000,
          application_name: `portal-listener:${process.pid}`,
        }),
      ),
    close: () => pool.end(),
  };
}
