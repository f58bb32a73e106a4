import pg from 'pg';
import { PG_ADMIN_URL, pgUrlFor, RUN_ID } from './env.ts';

/** A fresh, empty PostgreSQL database for one test file, dropped by `drop()`. */
export async function freshPgDatabase(
  label: string,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${RUN_ID}_${label}_${Math.random().toString(36).slice(2, 8)}`
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    url: pgUrlFor(name),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
