import { ConfigError, loadConfig } from './config.ts';
import { migrateOnly } from './db/open.ts';
import { seedDemo } from './db/seed/demo.ts';
import type { Platform } from './platform/platform.ts';
import { buildRuntime } from './server.ts';
import { bootstrapAdmin } from './users/bootstrap.ts';

/**
 * The process, whatever runtime runs it (src/main.ts: Node, src/main.deno.ts: Deno):
 * configuration, database, first admin and demo data, then the HTTP server.
 */
export async function start(platform: Platform) {
  const config = loadConfig(); // a ConfigError ends the process below, with exit code 2
  // `node dist/main.js migrate`: the image's release command (no scripts/ in the image).
  if (process.argv[2] === 'migrate') return console.log(await migrateOnly(config.database));
  const runtime = await buildRuntime(config, { platform });
  const boot = await bootstrapAdmin(runtime.database.db, config.admin);
  const demo = boot.wasEmpty && config.demo ? await seedDemo(runtime.database.db) : undefined;

  // Prometheus text on its own port, never the public one (Fly scrapes it over the private network).
  const metrics = await platform.listenMetrics(runtime.metrics.registry, config.metrics).catch((error) => {
    throw new ConfigError(
      `METRICS_PORT: cannot listen on ${config.metrics.port} (${(error as Error).message})`,
    );
  });

  const server = await platform.listen(runtime.app.fetch, { port: config.port, hostname: config.host });
  const shown = (h: string) => (h === '0.0.0.0' || h === '::' ? 'localhost' : h.includes(':') ? `[${h}]` : h);
  const host = shown(config.host);
  const lines = [
    '',
    `  Enterprise Portal is running: http://${host}:${server.port}/`,
    `  Database: ${config.database.driver}${config.database.driver === 'pglite' ? ` (${config.database.dataDir ?? 'in memory'})` : ''}`,
    `  API documentation: http://${host}:${server.port}/api/docs`,
    `  Prometheus metrics (internal port): http://${shown(config.metrics.host)}:${metrics.port}/metrics`,
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

  runtime.realtime.start();

  // SIGTERM drains: no new connections, sockets closed with 4000 (clients resume elsewhere),
  // leadership handed over, then exit.
  const shutdown = async () => {
    // Sockets first, with 4000, and a moment for the closes to go out (at most a second): Deno's
    // server shutdown closes the sockets still open itself, with 1001.
    runtime.realtime.gateway.drain();
    for (let waited = 0; runtime.realtime.hub.connections > 0 && waited < 1000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    server.close();
    metrics.close();
    await runtime.close();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/** Runs `start` and ends the process on a failure: exit code 2 for bad configuration, 1 otherwise. */
export function run(platform: Platform) {
  start(platform).catch((error) => {
    if (error instanceof ConfigError) {
      console.error(`Invalid configuration: ${error.message}`);
      process.exit(2);
    }
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
}
