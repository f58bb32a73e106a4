import { getConnInfo, upgradeWebSocket } from 'hono/deno';
import { HTTPException } from 'hono/http-exception';
import { metricsFetch } from '../observability/metrics-fetch.ts';
import {
  OPENING_REFUSAL_BODY,
  type OpeningLimit,
  type StandardWebSocket,
  standardSocket,
} from '../realtime/socket.ts';
import type { Fetch, Listening, Platform } from './platform.ts';

/** The part of the `Deno` global used here (the Node type definitions the project checks with have none). */
interface DenoServeApi {
  serve(
    options: { port: number; hostname: string; onListen?: (addr: { port: number }) => void },
    handler: (request: Request, info: unknown) => Response | Promise<Response>,
  ): { shutdown(): Promise<void> };
}

function serve(fetch: Fetch, where: { port: number; hostname: string }) {
  const { Deno } = globalThis as unknown as { Deno: DenoServeApi };
  return new Promise<Listening>((resolve, reject) => {
    try {
      const server = Deno.serve(
        {
          port: where.port,
          hostname: where.hostname,
          onListen: ({ port }) => resolve({ port, close: () => void server.shutdown() }),
        },
        fetch,
      );
    } catch (error) {
      reject(error); // the address is taken, or not allowed by --allow-net
    }
  });
}

/**
 * An admitted upgrade that never reports back (the peer vanished between the 101 and the open
 * event) stops counting against the limit after this long.
 */
const OPENING_TIMEOUT_MS = 30_000;

/**
 * 503 before the upgrade: a clean HTTP answer the client can read (Retry-After), as on Node
 * (docs/decisions/0025-open-storms.md).
 */
function refusal(retryAfterSeconds: number): Response {
  return new Response(OPENING_REFUSAL_BODY, {
    status: 503,
    headers: {
      'retry-after': String(retryAfterSeconds),
      'content-type': 'application/json',
      connection: 'close',
    },
  });
}

/**
 * Deno: `Deno.serve` for HTTP, `upgradeWebSocket` from `hono/deno` for WebSocket upgrades. Its
 * server sockets cannot ping; Deno's own `idleTimeout` pings and drops silent peers instead.
 */
export function denoPlatform(): Platform {
  let limit: OpeningLimit | undefined;
  /** Upgrades admitted and not yet opened (their release runs once: opened, refused or timed out). */
  const opening = new Map<Request, () => void>();
  // Admission wraps the app's fetch, so a refusal is decided before routing and before the
  // sign-in lookup: it costs no database or Redis work (the same place as Node's 'upgrade' event).
  const admitting =
    (fetch: Fetch): Fetch =>
    async (request, info) => {
      if (!limit || request.headers.get('upgrade')?.toLowerCase() !== 'websocket')
        return fetch(request, info);
      if (opening.size >= limit.maxOpening) {
        limit.onRefused?.();
        return refusal(limit.retryAfterSeconds);
      }
      const release = () => {
        clearTimeout(timer);
        opening.delete(request);
      };
      const timer = setTimeout(release, OPENING_TIMEOUT_MS);
      opening.set(request, release);
      try {
        const response = await fetch(request, info);
        // Not upgraded (a 401, a 403, a bad handshake): nothing is opening any more.
        if (response.status !== 101) release();
        return response;
      } catch (error) {
        release();
        throw error;
      }
    };
  return {
    name: 'deno',
    connectionAddress: (c) => {
      try {
        return getConnInfo(c).remote.address;
      } catch {
        return undefined;
      }
    },
    sockets: () => ({
      upgrade: (createEvents, limits) => {
        // Deno pings after half of idleTimeout without a frame from the peer and closes the
        // socket (1001) when the other half passes without one either: silence for `silenceMs`.
        const upgrade = upgradeWebSocket(createEvents, { idleTimeout: limits.silenceMs / 1000 });
        return async (c, next) => {
          try {
            return await upgrade(c, next);
          } catch (error) {
            // Deno throws on a malformed handshake (no Sec-WebSocket-Key, say): the client's
            // mistake, a 400, as `ws` answers it on Node.
            if (error instanceof TypeError && /^Invalid Header/.test(error.message))
              throw new HTTPException(400, { message: 'Not a valid WebSocket handshake' });
            throw error;
          }
        };
      },
      socketOf: (ws) => standardSocket(ws.raw as StandardWebSocket),
      limitOpening: (l) => {
        limit = l;
      },
      opened: (c) => opening.get(c.req.raw)?.(),
    }),
    // Deno.serve passes the connection info as the second argument: hono reads it as `c.env`.
    listen: (fetch: Fetch, where) => serve(admitting(fetch), where),
    listenMetrics: (registry, where) =>
      serve(metricsFetch(registry), { port: where.port, hostname: where.host }),
  };
}
