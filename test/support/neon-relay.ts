import { createConnection } from 'node:net';
import { WebSocketServer } from 'ws';

/**
 * Test-only stand-in for Neon's WebSocket proxy: each WebSocket carries one PostgreSQL
 * connection, relayed byte for byte to the TCP address named in `?address=host:port`.
 */
export async function startNeonRelay(): Promise<{ proxy: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  wss.on('connection', (socket, request) => {
    const address =
      new URL(request.url ?? '/', 'http://relay').searchParams.get('address') ?? '127.0.0.1:5432';
    const [host, port] = address.split(':');
    const tcp = createConnection({
      host: host === 'localhost' ? '127.0.0.1' : host,
      port: Number(port ?? 5432),
    });
    tcp.on('data', (data) => socket.send(data));
    tcp.on('close', () => socket.close());
    tcp.on('error', () => socket.close());
    socket.on('message', (data) => tcp.write(data as Buffer));
    socket.on('close', () => tcp.destroy());
  });
  const { port } = wss.address() as { port: number };
  return {
    proxy: `127.0.0.1:${port}/v2`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => resolve());
      }),
  };
}
