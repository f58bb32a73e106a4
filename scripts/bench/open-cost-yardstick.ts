/**
 * The yardstick of `npm run bench:open-cost`: a bare `ws` server that answers every upgrade at
 * once and sends one small snapshot frame, nothing else (no authentication, no Redis, no
 * database). What opening a socket costs a Node process at the least, measured in the same run.
 */
import { createServer } from 'node:http';
import { WebSocketServer } from 'ws';

const server = createServer((_req, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });
server.on('upgrade', (request, socket, head) =>
  wss.handleUpgrade(request, socket, head, (ws) => {
    ws.send(JSON.stringify({ type: 'hello', session_id: 'x', resumed: false, heartbeat_ms: 15000 }));
    ws.send(JSON.stringify({ type: 'snapshot', seq: 1, data: {} }));
  }),
);
server.listen({ port: Number(process.env.PORT), host: '127.0.0.1', backlog: 4096 }, () =>
  process.send?.('listening'),
);
