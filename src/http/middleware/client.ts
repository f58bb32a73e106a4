import { isIP } from 'node:net';
import type { Context } from 'hono';
import type { AppDeps } from '../context.ts';

/**
 * The client's address. Behind a trusted proxy (TRUST_PROXY=1): `Fly-Client-IP`, which Fly's proxy
 * sets itself, else the right-most `X-Forwarded-For` entry, the one our proxy appended for the peer
 * it saw. Never the left-most entry: anything left of the proxy's own is whatever the client wrote.
 * A value that is not an IP address is ignored. Without a trusted proxy: the socket's peer.
 */
export function clientAddress(c: Context, deps: Pick<AppDeps, 'trustProxy' | 'connectionAddress'>): string {
  if (deps.trustProxy) {
    const fly = c.req.header('fly-client-ip')?.trim();
    if (fly && isIP(fly)) return fly;
    const hops = c.req.header('x-forwarded-for')?.split(',');
    const nearest = hops?.[hops.length - 1]?.trim();
    if (nearest && isIP(nearest)) return nearest;
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
