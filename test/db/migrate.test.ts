import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { describe, expect, it } from 'vitest';
import { type Database, query } from '../../src/db/database.ts';
import { MIGRATIONS_FOLDER, migrate } from '../../src/db/migrate.ts';
import { openDatabase } from '../../src/db/open.ts';
import { freshPgDatabase } from '../support/pg.ts';

const migrationFiles = readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql'));

describe('migrations', () => {
  it('five instances starting together on an empty PostgreSQL apply each migration exactly once', async () => {
    expect(migrationFiles.length).toBeGreaterThanOrEqual(3);
    const fresh = await freshPgDatabase('migrate');
    const opened: Database[] = [];
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 5 }, () => openDatabase({ driver: 'pg', url: fresh.url })),
      );
      for (const r of results) if (r.status === 'fulfilled') opened.push(r.value);
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok'))).toEqual(
        Array(5).fill('ok'),
      );

      const db = opened[0]!.db;
      const rows = await query<{ hash: string }>(db, sql`select hash from portal_migrations`);
      expect(rows).toHaveLength(migrationFiles.length);
      const expected = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).map((m) => m.hash);
      expect(rows.map((r) => r.hash).sort()).toEqual([...expected].sort());

      // The schema is whole: one capture trigger per table and operation, the tables usable.
      const triggers = await query<{ n: number }>(
        db,
        sql`select count(*)::int as n from pg_trigger where tgname like '%capture%' and not tgisinternal`,
      );
      expect(triggers[0]!.n).toBe(9);
      await db.execute(sql`insert into users (username, password_hash) values ('first', 'x')`);
      const logged = await query<{ n: number }>(db, sql`select count(*)::int as n from change_log`);
      expect(logged[0]!.n).toBe(1);

      // A second round, again all at once, finds nothing to do.
      expect(await Promise.all(opened.map((d) => migrate(d.db)))).toEqual(Array(5).fill({ applied: 0 }));
      const after = await query<{ n: number }>(db, sql`select count(*)::int as n from portal_migrations`);
      expect(after[0]!.n).toBe(migrationFiles.length);
    } finally {
      for (const database of opened) await database.close();
      await fresh.drop();
    }
  });

  // Creating a PGlite cluster on disk is CPU-heavy (initdb in WASM): slow when the machine is busy.
  it('an embedded PGlite data directory keeps its data across close and reopen', {
    timeout: 120_000,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-pglite-'));
    try {
      const first = await openDatabase({ driver: 'pglite', dataDir: dir });
      await first.db.execute(sql`insert into users (username, password_hash) values ('persisted', 'x')`);
      await first.close();

      const second = await openDatabase({ driver: 'pglite', dataDir: dir });
      try {
        const users = await query<{ username: string }>(second.db, sql`select username from users`);
        expect(users.map((r) => r.username)).toEqual(['persisted']);
        const log = await query<{ table_name: string; op: string }>(
          second.db,
          sql`select table_name, op from change_log`,
        );
        expect(log).toEqual([{ table_name: 'users', op: 'insert' }]);
        expect(await migrate(second.db)).toEqual({ applied: 0 });
        const applied = await query<{ n: number }>(
          second.db,
          sql`select count(*)::int as n from portal_migrations`,
        );
        expect(applied[0]!.n).toBe(migrationFiles.length);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
