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
  /** Upgrades past the limit waiting for an open to end, oldest first, with what admits each. */
  const line = new Map<Request, (release: () => void) => void>();

  /** Counts `request` as opening; answers what ends that (once). */
  const enter = (request: Request) => {
    const release = () => {
      if (opening.get(request) !== release) return;
      clearTimeout(timer);
      opening.delete(request);
      // Not from here: a release runs inside an open, which a started upgrade could re-enter.
      if (line.size > 0) queueMicrotask(next);
    };
    const timer = setTimeout(release, OPENING_TIMEOUT_MS);
    opening.set(request, release);
    return release;
  };
  /** Admits waiting upgrades while there is room (after an open ended). */
  const next = () => {
    for (const [request, admit] of line) {
      if (limit && opening.size >= limit.maxOpening) return;
      line.delete(request);
      admit(enter(request));
    }
  };
  /**
   * Past the limit, a short line first (as on Node, decision 0031): the upgrade starts as soon as
   * an open ends, where a refused client would come back only after Retry-After and its back-off.
   * Undefined: refused (the line is full, the wait was too long, or the client left).
   */
  const waitInLine = (request: Request, l: OpeningLimit) =>
    new Promise<(() => void) | undefined>((resolve) => {
      if (line.size >= (l.maxWaiting ?? 0)) return resolve(undefined);
      const leave = () => {
        clearTimeout(timer);
        request.signal.removeEventListener('abort', leave);
        line.delete(request);
        resolve(undefined);
      };
      const timer = setTimeout(leave, l.maxWaitMs ?? 10_000);
      request.signal.addEventListener('abort', leave, { once: true });
      line.set(request, (release) => {
        clearTimeout(timer);
        request.signal.removeEventListener('abort', leave);
        resolve(release);
      });
    });

  // Admission wraps the app's fetch, so a refusal is decided before routing and before the
  // sign-in lookup: it costs no database or Redis work (the same place as Node's 'upgrade' event).
  const admitting =
    (fetch: Fetch): Fetch =>
    async (request, info) => {
      if (!limit || request.headers.get('upgrade')?.toLowerCase() !== 'websocket')
        return fetch(request, info);
      const release =
        opening.size < limit.maxOpening && line.size === 0
          ? enter(request)
          : await waitInLine(request, limit);
      if (!release) {
        limit.onRefused?.();
        return refusal(limit.retryAfterSeconds);
      }
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
