import { readFileSync } from 'node:fs';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { type Instance, startInstance } from '../support/cluster.ts';

/**
 * Issue 9, item 10: Prometheus text is served on an internal port (METRICS_PORT) that Fly's
 * `[metrics]` scrapes over the private network, never on the public one — whatever spelling of
 * the path an outsider tries.
 */

/** A GET with the request target sent exactly as written (no URL normalisation by a client). */
function rawGet(base: string, target: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(base);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: target, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let inst: Instance;
beforeAll(async () => {
  inst = await startInstance({ DATABASE_URL: 'memory://' });
}, 120_000);
afterAll(() => inst?.stop());

describe('10. /metrics is internal', () => {
  it('the internal port answers Prometheus text; the public one answers 404 to every spelling', async () => {
    const internal = await rawGet(inst.metricsBase, '/metrics');
    expect(internal.status).toBe(200);
    expect(internal.body).toContain('portal_http_request_duration_seconds');
    for (const target of [
      '/metrics',
      '/metrics/',
      '/METRICS',
      '//metrics',
      '/./metrics',
      '/api/../metrics',
      '/metrics?x=1',
    ]) {
      const exposed = await rawGet(inst.base, target, {
        'x-forwarded-host': 'internal',
        'x-forwarded-port': '9091',
      });
      expect(exposed.status, target).toBeGreaterThanOrEqual(300);
      expect(exposed.body, target).not.toContain('portal_http_request_duration_seconds');
    }
  });

  it('the internal port serves nothing else of the portal', async () => {
    for (const path of ['/healthz', '/api/openapi.json', '/login', '/api/me']) {
      expect((await rawGet(inst.metricsBase, path)).status, path).toBe(404);
    }
  });

  it('fly.toml scrapes the configured metrics port and publishes only the public one', () => {
    const fly = readFileSync('fly.toml', 'utf8');
    const defaults = loadConfig({});
    const scraped = /\[metrics\][^[]*?port\s*=\s*(\d+)/.exec(fly);
    expect(Number(scraped?.[1])).toBe(defaults.metrics.port);
    const internalPort = /internal_port\s*=\s*(\d+)/.exec(fly);
    expect(Number(internalPort?.[1])).not.toBe(defaults.metrics.port);
  });

  it('refuses to start with METRICS_PORT equal to PORT', () => {
    expect(() => loadConfig({ PORT: '8080', METRICS_PORT: '8080' })).toThrow(/METRICS_PORT/);
  });
});
