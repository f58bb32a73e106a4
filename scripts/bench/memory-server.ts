/**
 * The yardsticks of `bench:memory`: a server that holds WebSockets and does nothing else, on the
 * same Node and `ws` as the portal. MEMORY_SERVER=ws: a bare `ws` WebSocketServer (the library's
 * own floor). MEMORY_SERVER=hono: Hono with `@hono/node-server` and `@hono/node-ws`, an empty
 * upgrade handler (what the HTTP layer adds before any portal code). Prints `listening` when up.
 */
import { createServer } from 'node:http';
import { serve } from '@hono/node-server';
import { createNodeWebSocket } from '@hono/node-ws';
import { Hono } from 'hono';
import { WebSocketServer } from 'ws';

const port = Number(process.env.PORT);
const kind = process.env.MEMORY_SERVER ?? 'ws';

if (kind === 'ws') {
  const server = createServer((_req, res) => res.end('ok'));
  // As the portal configures it: no permessage-deflate, 64 KiB frames at most.
  const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 64 * 1024 });
  wss.on('connection', (ws) => ws.on('error', () => {}));
  server.listen(port, '127.0.0.1', () => console.log('listening'));
} else {
  const app = new Hono();
  const nodeWs = createNodeWebSocket({ app });
  nodeWs.wss.options.perMessageDeflate = false;
  app.get('/healthz', (c) => c.text('ok'));
  app.get(
    '/ws',
    nodeWs.upgradeWebSocket(() => ({})),
  );
  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => console.log('listening'));
  nodeWs.injectWebSocket(server);
}
