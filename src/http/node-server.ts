import { type IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';

/** What the Node adapter writes on every response that names no Content-Type of its own. */
const ADAPTER_DEFAULT_TYPE = 'text/plain; charset=UTF-8';

/**
 * The Node adapter labels every response without a Content-Type `text/plain`, a 204 and a
 * redirect included. Those have no body to describe: the label is dropped here, just before the
 * head is written (a redirect that does carry a body keeps it: it has a Content-Length).
 */
class PortalResponse<R extends IncomingMessage = IncomingMessage> extends ServerResponse<R> {
  // biome-ignore lint/suspicious/noExplicitAny: writeHead's overloads cannot be restated one by one
  override writeHead(statusCode: number, ...rest: any[]): this {
    const headers = rest.at(-1);
    if (headers && typeof headers === 'object' && !Array.isArray(headers)) {
      const keys = Object.keys(headers);
      const hasLength = keys.some((k) => k.toLowerCase() === 'content-length');
      const bodiless =
        statusCode === 204 || statusCode === 304 || (statusCode >= 300 && statusCode < 400 && !hasLength);
      if (bodiless) {
        for (const key of keys) {
          if (key.toLowerCase() === 'content-type' && headers[key] === ADAPTER_DEFAULT_TYPE)
            delete headers[key];
        }
      }
    }
    const closing =
      headers && typeof headers === 'object' && /close/i.test(String(headerOf(headers, 'connection')));
    if (closing && !this.req.complete && this.socket) lingerBeforeClose(this.socket as Socket, this.req);
    return super.writeHead(statusCode, ...(rest as []));
  }
}

/** A header's value from the adapter's header object or list, whatever its case. */
function headerOf(headers: Record<string, unknown>, name: string): unknown {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/**
 * How long a connection the server is closing stays open to take the rest of a request body it
 * will not read (a 413 answered before the body ended).
 */
const LINGER_MS = 2_000;

/**
 * A lingering close (as nginx and Apache do): closing a socket with request bytes still unread
 * makes the kernel answer them with a reset, and a reset can destroy the 413 in the client's
 * buffer before the client has read it. So the answer goes out with a FIN (half-close), what
 * still arrives is read and dropped, and the socket is destroyed once the client closes its side
 * or after LINGER_MS.
 */
function lingerBeforeClose(socket: Socket, request: IncomingMessage) {
  request.resume();
  socket.destroySoon = function destroyAfterLingering(this: Socket) {
    if (this.destroyed) return;
    this.end();
    this.resume();
    const timer = setTimeout(() => this.destroy(), LINGER_MS);
    timer.unref();
    this.once('end', () => this.destroy());
    this.once('close', () => clearTimeout(timer));
  };
}

/**
 * The accept queue's length. Node's default (511) overflows when thousands of sockets open within
 * a second while the event loop is busy with the ones before them: the kernel then drops SYNs or
 * resets connections (TcpExtListenOverflows) and clients see ECONNRESET before any HTTP answer.
 * The kernel caps it at net.core.somaxconn (4096 since Linux 5.4). See
 * docs/decisions/0025-open-storms.md.
 */
export const LISTEN_BACKLOG = 4096;

/** LISTEN_BACKLOG, or the environment's (scripts/bench/open-storm.ts compares with Node's 511). */
const backlog = () => {
  const n = Number(process.env.LISTEN_BACKLOG);
  return Number.isSafeInteger(n) && n > 0 ? n : LISTEN_BACKLOG;
};

/** The public HTTP server of the portal (the Node adapter, with the fix above). */
export function listen(
  fetch: (request: Request, env: unknown) => Response | Promise<Response>,
  where: { port: number; hostname: string },
  onListening: (info: AddressInfo) => void,
) {
  const server = createAdaptorServer({
    fetch,
    hostname: where.hostname,
    serverOptions: { ServerResponse: PortalResponse },
  });
  server.listen({ port: where.port, host: where.hostname, backlog: backlog() }, () =>
    onListening(server.address() as AddressInfo),
  );
  return server;
}
