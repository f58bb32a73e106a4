import { describe, expect, it } from 'vitest';
import { DRIVERS, expectError, expectInvalid, sorted, useApi } from '../support/api-harness.ts';

/** The JSON API contract (docs/contract.md §4) for the OpenAPI document, its page and unknown routes, on every driver. */
describe.each(DRIVERS)('the OpenAPI document, its page and unknown routes API on %s', (driver) => {
  const h = useApi(driver, { minValidated: 3 });
  const { anon } = h;

  describe('documents and errors', () => {
    it('GET /api/openapi.json documents every /api route with its method', async () => {
      const doc = await anon().get('/api/openapi.json');
      expect(doc.status).toBe(200);
      expect(doc.headers.get('content-type')).toMatch(/^application\/json/);
      expect(doc.body.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(doc.body.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
      expect(Object.keys(doc.body.components.securitySchemes)).toEqual(
        expect.arrayContaining(['bearer', 'cookie']),
      );
      const paths = doc.body.paths as Record<string, Record<string, { responses: object }>>;
      // Every API route the app serves (but the document and its page themselves) is documented.
      const served = h.ctx.app.routes
        .filter((r) => r.method !== 'ALL' && r.path.startsWith('/api/'))
        .filter((r) => r.path !== '/api/openapi.json' && r.path !== '/api/docs')
        .map((r) => ({ path: r.path.replace(/:(\w+)/g, '{$1}'), method: r.method.toLowerCase() }));
      expect(served.length).toBeGreaterThanOrEqual(18);
      for (const { path, method } of served) {
        expect(paths[path], path).toBeDefined();
        expect(paths[path]![method], `${method} ${path}`).toBeDefined();
      }
      for (const path of [
        '/api/auth/login',
        '/api/auth/logout',
        '/api/me',
        '/api/users',
        '/api/users/{id}',
        '/api/projects',
        '/api/projects/{id}',
        '/api/tasks',
        '/api/tasks/{id}',
        '/api/metrics',
        '/api/audit',
      ]) {
        expect(Object.keys(paths)).toContain(path);
      }
      expect(sorted(Object.keys(paths['/api/tasks/{id}']!))).toEqual(['delete', 'get', 'patch']);
      for (const item of Object.values(paths)) {
        for (const op of Object.values(item)) expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      }
      expect(doc.text).not.toMatch(/password_hash/);
    });

    it('GET /api/docs answers an HTML page reading that document', async () => {
      const page = await anon().get('/api/docs');
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.text).toMatch(/<html/i);
      for (const path of ['/api/auth/login', '/api/tasks/{id}', '/api/metrics', '/api/audit']) {
        expect(page.text).toContain(path);
      }
    });

    it('answers unknown routes 404 with the error body', async () => {
      const missing = await h.w.admin.api.get('/api/nothing-here');
      expectError(missing, 404, 'not_found');
      expectError(await h.w.admin.api.get('/api/tasks/1/comments'), 404, 'not_found');
      expectError(await anon().get('/no-such-page'), 404, 'not_found');
      // Ids that are not ids are a validation failure naming the parameter.
      expectInvalid(await h.w.admin.api.get('/api/tasks/abc'), 'id');
      expectError(await h.w.admin.api.get('/api/tasks/999999'), 404, 'not_found');
    });
  });
});
