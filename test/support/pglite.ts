import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';

/** Set by test/support/global-setup.ts: a dump (tar) of a PGlite database with every migration applied. */
export const PGLITE_TEMPLATE_ENV = 'TEST_PGLITE_TEMPLATE';

/** In memory (tmpfs) where there is one. */
export const SCRATCH = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

let template: Blob | undefined;

/**
 * Runs `open` (the portal's own `openDatabase({ driver: 'pglite', dataDir: undefined })`) so that
 * the in-memory PGlite it creates starts from the run's migrated template (global-setup.ts)
 * instead of an empty cluster: a fresh PGlite runs initdb in WASM (seconds of CPU each time; a
 * load of the dump is a fraction of that) and then every migration. Only PGlite's own
 * `loadDataDir` option is added to the in-memory `PGlite.create` calls made meanwhile; the
 * driver code (src/db/drivers/pglite.ts) and `migrate` (which finds everything applied) run as
 * they are. Without a template (outside `vitest run`) it is `open()` unchanged.
 */
export async function withPgliteTemplate<T>(open: () => Promise<T>): Promise<T> {
  const file = process.env[PGLITE_TEMPLATE_ENV];
  if (!file) return open();
  template ??= new Blob([readFileSync(file)]);
  const dump = template;
  const create = PGlite.create;
  const original = create.bind(PGlite) as (a?: string | PGliteOptions, b?: PGliteOptions) => Promise<PGlite>;
  const patched = (dataDirOrOptions?: string | PGliteOptions, options?: PGliteOptions) =>
    typeof dataDirOrOptions === 'object' && !dataDirOrOptions.dataDir && !dataDirOrOptions.loadDataDir
      ? original({ ...dataDirOrOptions, loadDataDir: dump })
      : original(dataDirOrOptions, options);
  PGlite.create = patched as typeof PGlite.create;
  try {
    return await open();
  } finally {
    PGlite.create = create;
  }
}
