import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { openDatabase } from '../../src/db/open.ts';
import { dropPgDatabase, freshPgDatabase, PG_TEMPLATE_ENV } from './pg.ts';
import { PGLITE_TEMPLATE_ENV, SCRATCH } from './pglite.ts';

/**
 * Once per `vitest run`, before any test file: one PostgreSQL database and one PGlite database
 * with every migration applied, named to the test processes in TEST_PG_TEMPLATE and
 * TEST_PGLITE_TEMPLATE (test/support/pg.ts `migratedPgDatabase`, pglite.ts `withPgliteTemplate`).
 * Each cluster and each test app then starts from a copy instead of migrating an empty database
 * (for PGlite also instead of running initdb). Both are made by the portal's own `openDatabase`,
 * so the schema is exactly what the portal makes, and the portal still runs `migrate` on every
 * copy it opens (finding nothing to do). Tests of migrating itself use empty databases
 * (`freshPgDatabase`, or PGlite opened directly).
 */
export default async function setup() {
  const [pgTemplate, pgliteTemplate] = await Promise.all([
    (async () => {
      const db = await freshPgDatabase('template');
      try {
        const database = await openDatabase({ driver: 'pg', url: db.url });
        await database.close();
      } catch (error) {
        await db.drop();
        throw error;
      }
      return db;
    })(),
    (async () => {
      const database = await openDatabase({ driver: 'pglite', dataDir: undefined });
      try {
        const dump = await (database as typeof database & { client: PGlite }).client.dumpDataDir('none');
        const dir = mkdtempSync(join(SCRATCH, 'portal-pglite-template-'));
        const file = join(dir, 'migrated.tar');
        writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
        return { dir, file };
      } finally {
        await database.close();
      }
    })(),
  ]);
  process.env[PG_TEMPLATE_ENV] = pgTemplate.name;
  process.env[PGLITE_TEMPLATE_ENV] = pgliteTemplate.file;
  return async () => {
    await dropPgDatabase(pgTemplate.name);
    rmSync(pgliteTemplate.dir, { recursive: true, force: true });
  };
}
