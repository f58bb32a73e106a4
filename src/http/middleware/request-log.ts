import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.ts';
import type { AppEnv } from '../context.ts';

/**
 * One log line per request: id, method, path (never the query string, headers or body, which
 * may hold credentials), status, time and the signed-in user.
 */
export function requestLog(logger: Logger, metrics: Metrics) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const started = performance.now();
    await next();
    const seconds = (performance.now() - started) / 1000;
    // The route's pattern (`/api/tasks/:id`), never the raw path: one series per route. When only
    // middleware (`app.use`, method ALL) matched, no route did.
    const last = matchedRoutes(c).at(-1);
    const route = last && last.method !== 'ALL' ? last.path : 'unmatched';
    metrics.httpDuration.observe({ method: c.req.method, route, status: String(c.res.status) }, seconds);
    logger.info({
      req_id: c.get('requestId'),
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(seconds * 10_000) / 10,
      user_id: c.get('actor')?.id,
    });
  });
}
