import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { type Db, query } from './database.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../db/migrations', import.meta.url));

/** Arbitrary constant naming "the portal's schema migration" among advisory locks. */
const MIGRATION_LOCK = 7_262_001;

/**
 * Applies the drizzle-kit migrations that are not applied yet, all in one transaction that
 * first takes a transaction-level advisory lock: instances starting together queue on the
 * lock, and the ones that follow find the work done. PostgreSQL DDL is transactional, so a
 * failed migration leaves nothing half-applied.
 */
export async function migrate(db: Db): Promise<{ applied: number }> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(sql`create table if not exists portal_migrations (
      hash text primary key,
      created_at bigint not null,
      applied_at timestamptz not null default now()
    )`);
    const done = new Set(
      (await query<{ hash: string }>(tx, sql`select hash from portal_migrations`)).map((r) => r.hash),
    );
    let applied = 0;
    for (const migration of migrations) {
      if (done.has(migration.hash)) continue;
      for (const statement of migration.sql) {
        if (statement.trim()) await tx.execute(sql.raw(statement));
      }
      await tx.execute(
        sql`insert into portal_migrations (hash, created_at) values (${migration.hash}, ${migration.folderMillis})`,
      );
      applied++;
    }
    return { applied };
  });
}
