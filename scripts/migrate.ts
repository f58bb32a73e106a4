import { ConfigError, loadConfig } from '../src/config.ts';
import { migrateOnly } from '../src/db/open.ts';

/** `npm run migrate`: bring the configured database up to date (the image runs `node dist/main.js migrate`). */
try {
  console.log(await migrateOnly(loadConfig().database));
} catch (error) {
  console.error(error instanceof ConfigError ? `Invalid configuration: ${error.message}` : error);
  process.exit(1);
}
