import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createNodeWebSocket } from '@hono/node-ws';
import type { WebSocket } from 'ws';
import { listen } from '../http/node-server.ts';
import { startMetricsServer } from '../observability/metrics-server.ts';
import { nodeSocket, type OpeningLimit } from '../realtime/socket.ts';
import type { Platform } from './platform.ts';

/** Node: `@hono/node-server` for HTTP, `@hono/node-ws` (the `ws` package) for WebSocket upgrades. */
export function nodePlatform(): Platform {
  let inject: ReturnType<typeof createNodeWebSocket>['injectWebSocket'] | undefined;
  let limit: OpeningLimit | undefined;
  /** Upgrades admitted and not yet opened (their release runs once: opened, or the socket closed). */
  const opening = new Map<IncomingMessage, () => void>();
  // Admission runs on the raw 'upgrade' event, before the app sees the request (its sign-in
  // lookup included): a refusal costs no database or Redis work. @hono/node-ws listens on the
  // relay, which only hears the admitted upgrades.
  const admit = (relay: EventEmitter) => (request: IncomingMessage, socket: Socket, head: Buffer) => {
    if (limit && opening.size >= limit.maxOpening) {
      limit.onRefused?.();
      return refuse(socket, limit.retryAfterSeconds);
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      opening.delete(request);
    };
    opening.set(request, release);
    socket.once('close', release);
    keepRetryAfter(socket);
    relay.emit('upgrade', request, socket, head);
  };
  return {
    name: 'node',
    connectionAddress: (c) => {
      try {
        return getConnInfo(c).remote.address;
      } catch {
        return undefined;
      }
    },
    sockets(app) {
      const nodeWs = createNodeWebSocket({ app });
      inject = nodeWs.injectWebSocket;
      // No permessage-deflate (the ws default).
      nodeWs.wss.options.perMessageDeflate = false;
      return {
        upgrade(createEvents, limits) {
          // `ws` refuses a larger frame itself, closing with 1009.
          nodeWs.wss.options.maxPayload = limits.maxIncomingBytes;
          return nodeWs.upgradeWebSocket(createEvents);
        },
        socketOf: (ws) => nodeSocket(ws.raw as WebSocket),
        limitOpening: (l) => {
          limit = l;
        },
        opened: (c) => {
          const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
          if (incoming) opening.get(incoming)?.();
        },
      };
    },
    listen: (fetch, where) =>
      new Promise((resolve, reject) => {
        const server = listen(fetch, where, (info: AddressInfo) =>
          resolve({ port: info.port, close: () => server.close() }),
        );
        server.once('error', reject);
        if (inject) {
          const relay = new EventEmitter();
          server.on('upgrade', admit(relay));
          inject(relay as unknown as Server);
        }
      }),
    listenMetrics: async (registry, where) => {
      const { server, port } = await startMetricsServer(registry, where);
      return { port, close: () => server.close() };
    },
  };
}

/**
 * 503 before the upgrade: a clean HTTP answer the client can read (Retry-After), where an
 * overflowing accept queue would have reset the connection (docs/decisions/0025-open-storms.md).
 */
function refuse(socket: Socket, retryAfterSeconds: number) {
  const body = JSON.stringify({
    error: { code: 'unavailable', message: 'too many sockets opening on this instance; retry later' },
  });
  socket.end(
    'HTTP/1.1 503 Service Unavailable\r\n' +
      `Retry-After: ${retryAfterSeconds}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/**
 * `@hono/node-ws` answers an upgrade the app did not accept with a bare status line, dropping the
 * response's headers: a 503 of the error handler (the database unreachable while the sign-in is
 * read) would reach the client without its Retry-After. Puts it back (5 s, the error handler's).
 */
function keepRetryAfter(socket: Socket) {
  const end = socket.end.bind(socket) as (...args: unknown[]) => Socket;
  socket.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' && chunk.startsWith('HTTP/1.1 503 ') && !/\r\nretry-after:/i.test(chunk))
      chunk = chunk.replace('\r\n', '\r\nRetry-After: 5\r\n');
    return end(chunk, ...rest);
  }) as Socket['end'];
}
