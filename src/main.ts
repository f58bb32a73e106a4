import { serve } from '@hono/node-server';
import { ConfigError, loadConfig } from './config.js';
import { seedDemo } from './db/seed/demo.js';
import { bootstrapAdmin } from './domain/bootstrap.js';
import { buildRuntime } from './server.js';

/** The process entry: configuration, database, first admin and demo data, then the HTTP server. */
async function main() {
  const config = loadConfig(); // a ConfigError ends the process below, with exit code 2
  const runtime = await buildRuntime(config);
  const boot = await bootstrapAdmin(runtime.database.db, config.admin);
  const demo = boot.wasEmpty && config.demo ? await seedDemo(runtime.database.db) : undefined;

  const server = serve({ fetch: runtime.app.fetch, port: config.port, hostname: config.host }, (info) => {
    const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const lines = [
      '',
      `  Enterprise Portal is running: http://${host}:${info.port}/`,
      `  Database: ${config.database.driver}${config.database.driver === 'pglite' ? ` (${config.database.dataDir ?? 'in memory'})` : ''}`,
      `  API documentation: http://${host}:${info.port}/api/docs`,
    ];
    if (boot.admin?.generatedPassword) {
      lines.push(
        `  Sign in as ${boot.admin.username} / ${boot.admin.generatedPassword}  (shown once; keep it)`,
      );
    } else if (boot.admin) {
      lines.push(`  Admin created: ${boot.admin.username} (password from PORTAL_ADMIN_PASSWORD)`);
    }
    if (demo) {
      lines.push(`  Demo sign-ins (password for all: ${demo.password}):`);
      lines.push(
        `    managers: ${demo.managers.join(', ')}`,
        `    users:    ${demo.users.slice(0, 5).join(', ')}, …`,
      );
    }
    if (!boot.admin && !demo) lines.push('  Sign in with an existing account.');
    console.log(`${lines.join('\n')}\n`);
  });

  runtime.injectWebSocket(server);
  runtime.realtime.start();

  // SIGTERM drains: no new connections, sockets closed with 4000 (clients resume elsewhere),
  // leadership handed over, then exit.
  const shutdown = async () => {
    server.close();
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error) => {
  if (error instanceof ConfigError) {
    console.error(`Invalid configuration: ${error.message}`);
    process.exit(2);
  }
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
