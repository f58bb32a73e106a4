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
  return sameOrigin(
    (name) => c.req.header(name),
    trustProxy,
    () => new URL(c.req.url).host,
  );
}

/**
 * `isSameOrigin` from a request's headers alone (a socket upgrade taken before any routing,
 * src/realtime/gateway.ts): the Origin's host against the Host (or, behind a trusted proxy,
 * X-Forwarded-Host); `fallbackHost` when the request named neither.
 */
export function sameOrigin(
  header: (name: string) => string | undefined,
  trustProxy: boolean,
  fallbackHost: () => string | undefined = () => undefined,
): boolean {
  const origin = header('origin');
  if (!origin || origin === 'null') return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return false;
  }
  const host = (trustProxy && header('x-forwarded-host')) || header('host') || fallbackHost();
  return originHost === host;
}

export const isUnsafeMethod = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method);
