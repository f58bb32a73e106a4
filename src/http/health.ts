import { sql } from 'drizzle-orm';
import type { App, AppDeps } from './context.ts';

/**
 * Liveness: registered before every middleware, so it answers without them (no request log line,
 * no request id, no security headers, no sign-in lookup): a constant, public answer that a load
 * balancer asks for every few seconds on every machine, and that must keep answering when the
 * database does not. Being cheap is its whole job (issue 12: half of a bare Hono handler).
 */
export function registerLiveness(app: App) {
  app.get('/healthz', (c) => c.json({ ok: true }));
}

export function registerHealth(app: App, deps: AppDeps) {
  // Prometheus text is not here: it has a port of its own (src/observability/metrics-server.ts).

  /** Ready when the database (and Redis, when configured) answer. */
  app.get('/readyz', async (c) => {
    const checks: Record<string, () => Promise<unknown>> = {
      database: () => deps.database.db.execute(sql`select 1`),
      ...deps.readiness,
    };
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await Promise.race([
            check(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000)),
          ]);
          return [name, 'ok'] as const;
        } catch {
          return [name, 'unreachable'] as const;
        }
      }),
    );
    const ok = results.every(([, state]) => state === 'ok');
    return c.json({ ok, checks: Object.fromEntries(results) }, ok ? 200 : 503);
  });
}
