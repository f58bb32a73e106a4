import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { query } from '../../src/db/database.js';
import { MIGRATIONS_FOLDER, migrate } from '../../src/db/migrate.js';
import { openDatabase } from '../../src/db/open.js';
import { freshPgDatabase } from '../support/pg.js';

const migrationFiles = readdirSync(MIGRATIONS_FOLDER).filter((f) => f.endsWith('.sql')).length;

describe('migrations', () => {
  it('run once when five instances start together on an empty PostgreSQL', async () => {
    const fresh = await freshPgDatabase('migrate');
    try {
      const opened = await Promise.all(
        Array.from({ length: 5 }, () => openDatabase({ driver: 'pg', url: fresh.url })),
      );
      const [first] = opened;
      const rows = await query<{ n: number }>(
        first!.db,
        sql`select count(*)::int as n from portal_migrations`,
      );
      expect(rows[0]!.n).toBe(migrationFiles);
      expect(await migrate(first!.db)).toEqual({ applied: 0 });
      for (const database of opened) await database.close();
    } finally {
      await fresh.drop();
    }
  });

  it('keep an embedded PGlite data directory across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portal-pglite-'));
    try {
      const first = await openDatabase({ driver: 'pglite', dataDir: dir });
      await first.db.execute(sql`insert into users (username, password_hash) values ('persisted', 'x')`);
      await first.close();
      const second = await openDatabase({ driver: 'pglite', dataDir: dir });
      const rows = await query<{ username: string }>(second.db, sql`select username from users`);
      expect(rows.map((r) => r.username)).toEqual(['persisted']);
      expect(await migrate(second.db)).toEqual({ applied: 0 });
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
