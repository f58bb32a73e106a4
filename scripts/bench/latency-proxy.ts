/**
 * A TCP proxy that delays every chunk by a fixed time in each direction: a database "far away"
 * (Fly regions to one Neon primary: 20–300 ms a round trip) on this machine. It also counts the
 * round trips it carried: a chunk from the client after the server last spoke (or the first one)
 * starts one, on each connection; and the sequential ones, those that start while no connection
 * is waiting for the server (round trips in parallel on several connections count once).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface LatencyProxy {
  port: number;
  /** Milliseconds added each way; may change while connections are open. */
  delayMs: number;
  /** Round trips carried so far, over every connection. */
  readonly roundTrips: number;
  /** Round trips that began while no other was under way: what a far database makes a caller wait for. */
  readonly sequential: number;
  close(): Promise<void>;
}

export async function startLatencyProxy(
  target: { host: string; port: number },
  delayMs = 0,
): Promise<LatencyProxy> {
  const sockets = new Set<Socket>();
  let roundTrips = 0;
  let sequential = 0;
  /** Connections whose client has spoken and whose server has not answered yet. */
  const waiting = new Set<Socket>();
  const proxy: LatencyProxy = {
    port: 0,
    delayMs,
    get roundTrips() {
      return roundTrips;
    },
    get sequential() {
      return sequential;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  /** Chunks go out in order: each waits its delay from arrival, never less than the one before it. */
  const pipeDelayed = (from: Socket, to: Socket, onChunk: () => void) => {
    let last = 0;
    from.on('data', (chunk) => {
      onChunk();
      const due = Math.max(Date.now() + proxy.delayMs, last);
      last = due;
      const send = () => {
        if (!to.destroyed) to.write(chunk);
      };
      if (proxy.delayMs === 0 && due <= Date.now()) send();
      else setTimeout(send, due - Date.now());
    });
    from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - Date.now())));
    from.on('error', () => to.destroy());
    from.on('close', () => setTimeout(() => to.destroy(), Math.max(0, last - Date.now()) + 1));
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(client).add(upstream);
    client.on('close', () => {
      sockets.delete(client);
      waiting.delete(client);
    });
    upstream.on('close', () => sockets.delete(upstream));
    let serverSpoke = true;
    // Counted as the chunks arrive here, before their delay: what each side did, in order.
    pipeDelayed(client, upstream, () => {
      if (serverSpoke) {
        roundTrips++;
        if (waiting.size === 0) sequential++;
        waiting.add(client);
      }
      serverSpoke = false;
    });
    pipeDelayed(upstream, client, () => {
      serverSpoke = true;
      waiting.delete(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as { port: number }).port;
  return proxy;
}
