import type { TestApp } from './app.js';
import { contractCheckFor } from './openapi-contract.js';

export interface Reply<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export const ORIGIN = 'http://portal.test';

/** A tiny API client over `app.request` (no sockets): JSON in, status + parsed body out. */
export function client(ctx: Pick<TestApp, 'app'>, token?: string) {
  const send = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const init: RequestInit = {
      method,
      headers: {
        host: 'portal.test',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    };
    const res = await ctx.app.request(`${ORIGIN}${path}`, init);
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    // Checked against the OpenAPI document when the test installed validateResponses(ctx).
    contractCheckFor(ctx.app)?.check({ method, path, status: res.status, headers: res.headers, text });
    return { status: res.status, body: parsed, text, headers: res.headers };
  };
  return {
    get: (path: string, headers?: Record<string, string>) => send('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) =>
      send('POST', path, body, headers),
    patch: (path: string, body?: unknown, headers?: Record<string, string>) =>
      send('PATCH', path, body, headers),
    delete: (path: string, headers?: Record<string, string>) => send('DELETE', path, undefined, headers),
    send,
  };
}

export type Client = ReturnType<typeof client>;
