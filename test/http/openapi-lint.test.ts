import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { client } from '../support/client.ts';
import { validateResponses } from '../support/openapi-contract.ts';
import { makeWorld } from '../support/world.ts';

const run = promisify(execFile);

interface Operation {
  operationId?: string;
  security?: unknown[];
  responses: Record<string, { headers?: Record<string, unknown> }>;
}

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[];
}

/**
 * The served OpenAPI document, linted by an outside tool: Redocly's recommended rules, as a
 * client generator or an API gateway would read it. No errors and no warnings.
 */
describe('GET /api/openapi.json passes Redocly lint (recommended rules)', () => {
  let ctx: TestApp;
  let dir: string;
  beforeAll(async () => {
    ctx = await startTestApp('pglite');
    dir = await mkdtemp(join(tmpdir(), 'openapi-lint-'));
  });
  afterAll(async () => {
    await ctx?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has 0 errors and 0 warnings', async () => {
    const doc = await client(ctx).get('/api/openapi.json');
    expect(doc.status).toBe(200);
    const file = join(dir, 'openapi.json');
    await writeFile(file, doc.text);
    const bin = join(process.cwd(), 'node_modules', '.bin', 'redocly');
    // Redocly exits 1 when it finds problems; the JSON report on stdout is what is asserted.
    const out = await run(bin, ['lint', '--extends=recommended', '--format=json', file], {
      maxBuffer: 20 * 1024 * 1024,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    }).catch((error: { stdout?: string; stderr?: string }) => ({
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? '',
    }));
    const start = out.stdout.indexOf('{');
    expect(start, out.stderr).toBeGreaterThanOrEqual(0);
    const report = JSON.parse(out.stdout.slice(start)) as LintReport;
    const problems = report.problems.map(
      (p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location.map((l) => l.pointer).join(', ')}`,
    );
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('declares what the server enforces: bounds, formats, integers, every status it can send', async () => {
    const doc = (await client(ctx).get('/api/openapi.json')).body;
    const list = doc.paths['/api/tasks'].get;
    const param = (name: string) => list.parameters.find((p: { name: string }) => p.name === name).schema;
    expect(param('limit')).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
    expect(param('offset')).toMatchObject({ type: 'integer', minimum: 0 });
    const task = doc.components.schemas.Task.properties;
    expect(task.created_at).toMatchObject({ type: 'string', format: 'date-time' });
    expect(task.completed_at).toMatchObject({ format: 'date-time', nullable: true });
    expect(task.due_date).toMatchObject({ format: 'date' });
    const audit = doc.components.schemas.AuditEntry.properties;
    expect(audit.id.type).toBe('integer');
    expect(audit.at.format).toBe('date-time');
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
      for (const [method, op] of Object.entries(item)) {
        const statuses = Object.keys(op.responses);
        for (const status of ['400', '404', '405', '413', '503'])
          expect(statuses, `${method} ${path}`).toContain(status);
        expect(op.responses['405']?.headers?.Allow, `${method} ${path}`).toBeDefined();
        expect(op.operationId, `${method} ${path}`).toEqual(expect.any(String));
        if (op.security === undefined || op.security.length > 0) expect(statuses).toContain('401');
      }
    }
    const login = doc.paths['/api/auth/login'].post;
    expect(login.security).toEqual([]);
    expect(login.responses['429'].headers['Retry-After']).toBeDefined();
  });

  it('the response check of the API tests catches what the document does not declare', async () => {
    const contract = await validateResponses(ctx);
    const w = await makeWorld(ctx, 'lint_');
    const me = await w.admin.api.get('/api/me');
    expect(me.status).toBe(200);
    const json = new Headers({ 'content-type': 'application/json' });
    const seen =
      (status: number, body: unknown, headers = json) =>
      () =>
        contract.check({ method: 'GET', path: '/api/me', status, headers, text: JSON.stringify(body) });
    expect(seen(200, me.body)).not.toThrow();
    // An undeclared field (objects are closed), a wrong type, a missing field.
    expect(seen(200, { ...me.body, password_hash: 'x' })).toThrow(/password_hash|additional/);
    expect(seen(200, { ...me.body, id: 'seven' })).toThrow(/body/);
    const { role: _role, ...noRole } = me.body;
    expect(seen(200, noRole)).toThrow(/role/);
    // A status the operation does not declare; a content type it does not declare.
    expect(seen(418, { error: { code: 'x', message: 'y' } })).toThrow(/418 is not declared/);
    expect(seen(200, me.body, new Headers({ 'content-type': 'text/plain' }))).toThrow(/content type/);
    // A declared header that is missing (Retry-After of a 503).
    expect(seen(503, { error: { code: 'unavailable', message: 'down' } })).toThrow(/headers/);
    // Unknown paths must answer an error body with 404/405.
    expect(() =>
      contract.check({ method: 'GET', path: '/api/nope', status: 200, headers: json, text: '{}' }),
    ).toThrow(/no documented operation/);
    expect(contract.validated).toBeGreaterThan(5);
  });
});
