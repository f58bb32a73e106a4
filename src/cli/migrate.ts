import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/open.js';

/** `npm run migrate`: bring the configured database up to date (Fly's release_command). */
try {
  const config = loadConfig();
  const database = await openDatabase(config.database);
  console.log(`Database (${database.kind}) is up to date.`);
  await database.close();
} catch (error) {
  console.error(error instanceof ConfigError ? `Invalid configuration: ${error.message}` : error);
  process.exit(1);
}
