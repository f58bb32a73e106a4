import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { type Database, type Db, statementCounter } from '../database.ts';
import * as schema from '../schema/index.ts';

/** Embedded PostgreSQL (WASM) in this process: a data directory, or memory when `dataDir` is undefined. */
export async function openPglite(dataDir: string | undefined): Promise<Database & { client: PGlite }> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir ? { dataDir } : {});
  const { stats, logger } = statementCounter();
  const db = drizzle({ client, schema, logger }) as unknown as Db;
  return {
    kind: 'pglite',
    db,
    stats,
    client,
    // One in-process connection: the listener is the same client, and it is never lost.
    openListener: async () => {
      const unlisteners: (() => Promise<void>)[] = [];
      return {
        query: async <T>(text: string, params?: unknown[]) => (await client.query<T>(text, params)).rows,
        listen: async (channel: string, onNotify: () => void) => {
          unlisteners.push(await client.listen(channel, () => onNotify()));
        },
        onLost: () => {},
        close: async () => {
          for (const unlisten of unlisteners) await unlisten();
        },
      };
    },
    close: () => client.close(),
  };
}
