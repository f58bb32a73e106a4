import type { DatabaseTarget } from '../config.ts';
import type { Database } from './database.ts';
import { migrate } from './migrate.ts';

/** Opens the configured driver and brings the schema up to date (safe with many instances at once). */
export async function openDatabase(
  target: DatabaseTarget,
  options: { wsProxy?: string } = {},
): Promise<Database> {
  let database: Database;
  if (target.driver === 'pglite') {
    const { openPglite } = await import('./drivers/pglite.ts');
    database = await openPglite(target.dataDir);
  } else if (target.driver === 'pg') {
    const { openPg } = await import('./drivers/pg.ts');
    database = await openPg(target.url, { max: target.poolMax, listenUrl: target.listenUrl });
  } else {
    const { openNeon } = await import('./drivers/neon.ts');
    database = await openNeon(target.url, { ...options, max: target.poolMax, listenUrl: target.listenUrl });
  }
  try {
    await migrate(database.db);
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}

/** `npm run migrate` and `node dist/main.js migrate` (Fly's release_command): migrate, then close. */
export async function migrateOnly(target: DatabaseTarget): Promise<string> {
  const database = await openDatabase(target);
  await database.close();
  return `Database (${database.kind}) is up to date.`;
}
