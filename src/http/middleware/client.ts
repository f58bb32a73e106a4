import type { Context } from 'hono';
import type { AppDeps } from '../context.js';

/** The client's address: from the proxy's header when we sit behind a trusted proxy, else the socket. */
export function clientAddress(c: Context, deps: Pick<AppDeps, 'trustProxy' | 'connectionAddress'>): string {
  if (deps.trustProxy) {
    const forwarded = c.req.header('fly-client-ip') ?? c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  return deps.connectionAddress?.(c) ?? 'unknown';
}

/** Is this request's Origin this portal? Browsers send Origin on every unsafe request. */
export function isSameOrigin(c: Context, trustProxy: boolean): boolean {
  const origin = c.req.header('origin');
  if (!origin || origin === 'null') return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false;
  }
  const host =
    (trustProxy && c.req.header('x-forwarded-host')) || c.req.header('host') || new URL(c.req.url).host;
  return originHost === host;
}

export const isUnsafeMethod = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method);
