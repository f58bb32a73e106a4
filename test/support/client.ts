import type { TestApp } from './app.ts';
import { contractCheckFor } from './openapi-contract.ts';

/**
 * A reply: status, parsed body, raw text, headers. Name the body's type where you read it
 * (`api.get<ApiTask>(…)`, types in test/support/fixtures.ts); the `any` default is for the several
 * hundred older reads, which `unknown` would all break.
 */
// biome-ignore lint/suspicious/noExplicitAny: the default keeps older callers compiling
export interface Reply<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export const ORIGIN = 'http://portal.test';

/** A tiny API client over `app.request` (no sockets): JSON in, status + parsed body out. */
export function client(ctx: Pick<TestApp, 'app'>, token?: string) {
  // biome-ignore lint/suspicious/noExplicitAny: see Reply
  const send = async <T = any>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> => {
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
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  };
  // biome-ignore-start lint/suspicious/noExplicitAny: see Reply
  return {
    get: <T = any>(path: string, headers?: Record<string, string>) =>
      send<T>('GET', path, undefined, headers),
    post: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) =>
      send<T>('POST', path, body, headers),
    patch: <T = any>(path: string, body?: unknown, headers?: Record<string, string>) =>
      send<T>('PATCH', path, body, headers),
    delete: <T = any>(path: string, headers?: Record<string, string>) =>
      send<T>('DELETE', path, undefined, headers),
    send,
  };
  // biome-ignore-end lint/suspicious/noExplicitAny: see Reply
}

export type Client = ReturnType<typeof client>;
