/** A database of its own for each benchmark run, dropped when the run ends. */
import pg from 'pg';
import { openDatabase } from '../../../src/db/open.ts';
import { freshBenchDatabase } from '../support.ts';
import { defer } from './run.ts';

export async function benchDatabase(label: string) {
  const fresh = await freshBenchDatabase(label);
  defer(() => fresh.drop());
  return { url: fresh.url, name: new URL(fresh.url).pathname.slice(1) };
}

/**
 * The portal's own database access (seeding, engine measurements) and a separate pool for the
 * benchmark's writes, named `bench-writer` in pg_stat_activity.
 */
export async function connect(url: string, writerPoolSize: number) {
  const database = await openDatabase({ driver: 'pg', url });
  defer(() => database.close());
  const writer = new pg.Pool({
    connectionString: url,
    max: writerPoolSize,
    application_name: 'bench-writer',
  });
  defer(() => writer.end());
  return { database, writer };
}
