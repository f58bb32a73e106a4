import type { AddressInfo } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createNodeWebSocket } from '@hono/node-ws';
import type { WebSocket } from 'ws';
import { listen } from '../http/node-server.js';
import { startMetricsServer } from '../observability/metrics-server.js';
import { nodeSocket } from '../realtime/socket.js';
import type { Platform } from './platform.js';

/** Node: `@hono/node-server` for HTTP, `@hono/node-ws` (the `ws` package) for WebSocket upgrades. */
export function nodePlatform(): Platform {
  let inject: ReturnType<typeof createNodeWebSocket>['injectWebSocket'] | undefined;
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
      };
    },
    listen: (fetch, where) =>
      new Promise((resolve, reject) => {
        const server = listen(fetch, where, (info: AddressInfo) =>
          resolve({ port: info.port, close: () => server.close() }),
        );
        server.once('error', reject);
        inject?.(server);
      }),
    listenMetrics: async (registry, where) => {
      const { server, port } = await startMetricsServer(registry, where);
      return { port, close: () => server.close() };
    },
  };
}
