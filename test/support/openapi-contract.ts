import { type Document, OpenAPIBackend, SetMatchType } from 'openapi-backend';
import type { TestApp } from './app.ts';

/**
 * Checks every API response a test client (test/support/client.ts) receives against the app's own
 * OpenAPI document, with an outside validator (openapi-backend, Ajv):
 * - the status is declared for that operation;
 * - the content type is one the document declares for that status (and a body-less status has no body);
 * - a JSON body matches the declared schema, with objects closed (no undeclared fields);
 * - the declared response headers are present and well-formed.
 * A mismatch throws from the request, so the test that made it fails at that line.
 */

export interface ResponseSeen {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  text: string;
}

export interface ContractCheck {
  /** Responses matched to a documented operation and validated. */
  validated: number;
  /** API responses for paths/methods the document does not have (they must be 404/405 error bodies). */
  unmatched: number;
  check(response: ResponseSeen): void;
}

const checks = new WeakMap<object, ContractCheck>();

/** The check installed for this app, if any (the test client calls it on every response). */
export function contractCheckFor(app: object): ContractCheck | undefined {
  return checks.get(app);
}

type Schema = Record<string, unknown>;

/** Closes every object schema that lists its properties: a field the document does not name is an error. */
function closeObjects(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) closeObjects(item);
    return;
  }
  if (!node || typeof node !== 'object') return;
  const o = node as Schema;
  if (o.type === 'object' && o.properties && o.additionalProperties === undefined)
    o.additionalProperties = false;
  for (const value of Object.values(o)) closeObjects(value);
}

const OUTSIDE = new Set(['/api/openapi.json', '/api/docs']);

/** Installs the check for `ctx.app` (reading the document the app serves) and answers its counters. */
export async function validateResponses(ctx: Pick<TestApp, 'app'>): Promise<ContractCheck> {
  const res = await ctx.app.request('http://portal.test/api/openapi.json');
  const definition = (await res.json()) as Document;
  closeObjects(definition.components?.schemas);
  closeObjects(definition.paths);
  const api = new OpenAPIBackend({ definition, quick: false, validate: true, strict: true });
  await api.init();
  // The error body, for answers no operation describes (unknown paths, other methods).
  const errorSchema = definition.components?.schemas?.Error;

  const state: ContractCheck = {
    validated: 0,
    unmatched: 0,
    check(r) {
      const url = new URL(r.path, 'http://portal.test');
      if (!url.pathname.startsWith('/api/') || OUTSIDE.has(url.pathname)) return;
      const where = `${r.method} ${r.path} -> ${r.status} ${r.text.slice(0, 300)}`;
      const fail = (why: string): never => {
        throw new Error(`Response does not match the OpenAPI document: ${why}\n  ${where}`);
      };
      const type = r.headers.get('content-type') ?? '';
      const operation = api.matchOperation({
        method: r.method.toLowerCase(),
        path: url.pathname,
        query: url.search.slice(1),
        headers: {},
      });
      if (!operation) {
        state.unmatched++;
        if (r.status !== 404 && r.status !== 405)
          fail(`no documented operation, yet status ${r.status} (only 404/405 expected)`);
        if (!type.startsWith('application/json')) fail(`error with content type "${type}"`);
        if (errorSchema) {
          const body = JSON.parse(r.text) as { error?: unknown };
          if (!body.error || Object.keys(body).length !== 1) fail('not the error body');
        }
        return;
      }
      const responses = (operation.responses ?? {}) as Record<
        string,
        { content?: Record<string, unknown>; headers?: Record<string, unknown> }
      >;
      const declared =
        responses[String(r.status)] ?? responses[`${Math.floor(r.status / 100)}XX`] ?? responses.default;
      if (!declared)
        fail(`status ${r.status} is not declared for ${operation.operationId} (${Object.keys(responses)})`);
      const media = Object.keys(declared!.content ?? {});
      if (media.length === 0) {
        if (r.text !== '') fail(`status ${r.status} is declared without a body, yet one came`);
      } else {
        const mediaType = type.split(';')[0]!.trim().toLowerCase();
        if (!media.includes(mediaType)) fail(`content type "${type}" is not one of ${media.join(', ')}`);
        if (mediaType === 'application/json') {
          let body: unknown;
          try {
            body = JSON.parse(r.text);
          } catch {
            fail('the body is not JSON');
          }
          const result = api.validateResponse(body, operation, r.status);
          if (!result.valid) fail(`body: ${JSON.stringify(result.errors)}`);
        }
      }
      const headers: Record<string, string> = {};
      r.headers.forEach((value, name) => {
        headers[name] = value;
      });
      const headerResult = api.validateResponseHeaders(headers, operation, {
        statusCode: r.status,
        setMatchType: SetMatchType.Superset,
      });
      if (!headerResult.valid) fail(`headers: ${JSON.stringify(headerResult.errors)}`);
      state.validated++;
    },
  };
  checks.set(ctx.app, state);
  return state;
}
