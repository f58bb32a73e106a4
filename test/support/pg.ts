import pg from 'pg';
import { PG_ADMIN_URL, pgUrlFor, RUN_ID } from './env.ts';

/** Set by test/support/global-setup.ts: a database with every migration applied, to copy from. */
export const PG_TEMPLATE_ENV = 'TEST_PG_TEMPLATE';

export interface PgDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, empty PostgreSQL database for one test file, dropped by `drop()`. */
export function freshPgDatabase(label: string): Promise<PgDatabase> {
  return createPgDatabase(label);
}

/**
 * A fresh PostgreSQL database with the schema already migrated: a copy (`CREATE DATABASE …
 * TEMPLATE`) of the one test/support/global-setup.ts migrated once for the run, so the portal
 * (which still runs `migrate` when it opens the database) finds every migration applied instead
 * of applying them all again. Outside Vitest (the benchmarks), or without the template, it is
 * an empty database like {@link freshPgDatabase}, and the portal migrates it as before.
 */
export function migratedPgDatabase(label: string): Promise<PgDatabase> {
  return createPgDatabase(label, process.env[PG_TEMPLATE_ENV]);
}

export function pgDatabaseName(label: string): string {
  return `${RUN_ID}_${label}_${Math.random().toString(36).slice(2, 8)}`
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63);
}

async function createPgDatabase(label: string, template?: string): Promise<PgDatabase> {
  const name = pgDatabaseName(label);
  await adminQuery(`create database "${name}"${template ? ` template "${template}"` : ''}`);
  return {
    url: pgUrlFor(name),
    name,
    drop: () => dropPgDatabase(name),
  };
}

export async function dropPgDatabase(name: string): Promise<void> {
  await adminQuery(`drop database if exists "${name}" with (force)`);
}

async function adminQuery(text: string): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}
