import { Client, neonConfig, Pool } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-serverless';
import ws from 'ws';
import { type Database, type Db, statementCounter } from '../database.ts';
import * as schema from '../schema/index.ts';
import { type ClientLike, clientListener } from './pg-listener.ts';

export interface NeonOptions {
  max?: number;
  /** A direct (unpooled) endpoint for LISTEN and the leader lock, when `url` is a pooler. */
  listenUrl?: string;
  /**
   * A WebSocket-to-TCP proxy in front of a plain PostgreSQL (Neon's local-development
   * set-up, `host:port/path`). Without it the driver speaks to Neon's own endpoint over TLS.
   */
  wsProxy?: string;
}

/** Neon through its serverless driver (PostgreSQL wire protocol over WebSockets). */
export async function openNeon(url: string, options: NeonOptions = {}): Promise<Database & { pool: Pool }> {
  neonConfig.webSocketConstructor = ws;
  if (options.wsProxy) {
    const proxy = options.wsProxy;
    neonConfig.wsProxy = (host, port) => `${proxy}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineConnect = false;
    neonConfig.pipelineTLS = false;
  }
  const pool = new Pool({ connectionString: url, max: options.max ?? 10, connectionTimeoutMillis: 5000 });
  pool.on('error', () => {});
  await pool.query('select 1');
  const { stats, logger } = statementCounter();
  const db = drizzle({ client: pool, schema, logger }) as unknown as Db;
  return {
    kind: 'neon',
    db,
    stats,
    pool,
    // LISTEN needs a direct (unpooled) endpoint (config refuses a "-pooler" one here).
    openListener: () =>
      clientListener(
        new Client({
          connectionString: options.listenUrl ?? url,
          connectionTimeoutMillis: 10_000,
        }) as unknown as ClientLike,
      ),
    close: () => pool.end(),
  };
}
