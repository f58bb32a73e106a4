import type { Registry } from 'prom-client';

/**
 * The internal metrics endpoint as a fetch handler (runtimes whose servers take one: Deno):
 * the same answers as ./metrics-server.ts gives on Node.
 */
export function metricsFetch(registry: Registry) {
  return async (request: Request): Promise<Response> => {
    const text = { 'content-type': 'text/plain; charset=utf-8' };
    if (new URL(request.url).pathname !== '/metrics')
      return new Response('Not found: try /metrics\n', { status: 404, headers: text });
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return new Response(null, { status: 405, headers: { allow: 'GET, HEAD', ...text } });
    try {
      const body = await registry.metrics();
      return new Response(request.method === 'HEAD' ? null : body, {
        headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
      });
    } catch {
      return new Response('Could not collect metrics\n', { status: 500, headers: text });
    }
  };
}
