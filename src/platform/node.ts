import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Hono, MiddlewareHandler } from 'hono';
import { WSContext, type WSEvents } from 'hono/ws';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { listen } from '../http/node-server.ts';
import { startMetricsServer } from '../observability/metrics-server.ts';
import {
  type DirectEvents,
  nodeSocket,
  OPENING_REFUSAL_BODY,
  type OpeningLimit,
  type UpgradeHead,
} from '../realtime/socket.ts';
import type { Platform } from './platform.ts';

/**
 * Node: `@hono/node-server` for HTTP, the `ws` package for WebSocket upgrades, wired here rather
 * than through `@hono/node-ws`, which keeps every upgrade's Hono context (its Request, Headers,
 * URL, IncomingMessage and the variables the middleware set) reachable from per-socket closures
 * for the socket's whole life: about 6 KB of heap per idle socket with an empty handler, and
 * everything the portal's middleware put in the context on top (docs/benchmarks.md, "Memory per
 * session"). Here a socket keeps its `ws` object, one `WSContext` and the events the gateway
 * returned; the listeners are shared functions.
 */
export function nodePlatform(): Platform {
  let sockets: NodeSockets | undefined;
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
      sockets = new NodeSockets(app);
      return {
        upgrade: (createEvents, limits) => {
          // `ws` refuses a larger frame itself, closing with 1009.
          sockets!.wss.options.maxPayload = limits.maxIncomingBytes;
          return sockets!.middleware(createEvents);
        },
        direct: (path, events, limits) => {
          sockets!.wss.options.maxPayload = limits.maxIncomingBytes;
          sockets!.direct(path, events);
        },
        socketOf: (ws) => nodeSocket(ws.raw as WebSocket),
        limitOpening: (l) => {
          sockets!.limit = l;
        },
        opened: (c) => {
          const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
          if (incoming) sockets!.opened(incoming);
        },
      };
    },
    listen: (fetch, where) =>
      new Promise((resolve, reject) => {
        const server = listen(fetch, where, (info: AddressInfo) =>
          resolve({ port: info.port, close: () => server.close() }),
        );
        server.once('error', reject);
        if (sockets) {
          const s = sockets;
          server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) =>
            s.admit(request, socket, head),
          );
        }
      }),
    listenMetrics: async (registry, where) => {
      const { server, port } = await startMetricsServer(registry, where);
      return { port, close: () => server.close() };
    },
  };
}

/** The events and context of one open socket, on the `ws` object itself (shared listeners find it there). */
const PEER = Symbol('peer');
interface Peer {
  events: WSEvents<WebSocket>;
  context: WSContext<WebSocket>;
}
type PeerSocket = WebSocket & { [PEER]?: Peer };

/** What `WSContext` calls: prototype methods over the raw socket, no closures per socket. */
class RawInit {
  constructor(readonly raw: WebSocket) {}
  get readyState() {
    return this.raw.readyState as 0 | 1 | 2 | 3;
  }
  send(source: string | ArrayBuffer | Uint8Array, options: { compress?: boolean }) {
    this.raw.send(source, { compress: options.compress });
  }
  close(code?: number, reason?: string) {
    this.raw.close(code, reason);
  }
}

/** The upgrades of one app: admission, the app's say (authentication), then `ws`. */
class NodeSockets {
  // No client tracking: the hub tracks the sockets; ws's set would add an entry and a close
  // listener per socket. permessage-deflate stays off (the ws default).
  readonly wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });
  limit: OpeningLimit | undefined;
  /** Upgrades admitted and not yet opened (their release runs once: opened, or the socket closed). */
  readonly #opening = new Map<IncomingMessage, () => void>();
  /** The events the app's upgrade handler returned for a request it accepted (until upgraded). */
  readonly #accepted = new WeakMap<IncomingMessage, WSEvents<WebSocket>>();
  /** Requests that came through the server's 'upgrade' event (a plain request may say Upgrade too). */
  readonly #upgrading = new WeakSet<IncomingMessage>();
  /** Paths whose upgrades skip the app (`SocketLayer.direct`), and who decides on them. */
  readonly #direct = new Map<string, DirectEvents>();

  // biome-ignore lint/suspicious/noExplicitAny: any app's environment (as Platform.sockets takes it)
  constructor(readonly app: Hono<any>) {}

  // Admission runs on the raw 'upgrade' event, before the app sees the request (its sign-in
  // lookup included): a refusal costs no database or Redis work.
  admit(request: IncomingMessage, socket: Socket, head: Buffer) {
    const limit = this.limit;
    if (limit && this.#opening.size >= limit.maxOpening) {
      // Past the limit, a short line first: the upgrade starts as soon as an open ends, where a
      // refused client would come back after Retry-After and its own back-off (a browser, which
      // cannot read the 503, after up to 30 s), and the instance would sit idle meanwhile
      // (docs/decisions/0031-socket-opens-without-the-middleware.md).
      if (this.#waiting.size < (limit.maxWaiting ?? 0)) return this.#wait(request, socket, head, limit);
      limit.onRefused?.();
      return refuse(socket, limit.retryAfterSeconds);
    }
    this.#start(request, socket, head);
  }

  /** Upgrades waiting for an open to end, oldest first, each with what gives it up. */
  readonly #waiting = new Map<IncomingMessage, { socket: Socket; head: Buffer; leave: () => void }>();

  #wait(request: IncomingMessage, socket: Socket, head: Buffer, limit: OpeningLimit) {
    const leave = () => {
      this.#waiting.delete(request);
      socket.off('close', leave);
      clearTimeout(timer);
    };
    // Waited too long (the instance is stalled): refused as if the line had been full.
    const timer = setTimeout(() => {
      leave();
      limit.onRefused?.();
      refuse(socket, limit.retryAfterSeconds);
    }, limit.maxWaitMs ?? 10_000);
    timer.unref();
    socket.once('close', leave);
    this.#waiting.set(request, { socket, head, leave });
  }

  /** Starts waiting upgrades while there is room (after an open ended). */
  #next() {
    const limit = this.limit;
    for (const [request, { socket, head, leave }] of this.#waiting) {
      if (limit && this.#opening.size >= limit.maxOpening) return;
      leave();
      if (!socket.destroyed) this.#start(request, socket, head);
    }
  }

  #start(request: IncomingMessage, socket: Socket, head: Buffer) {
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#opening.delete(request);
      // The listener would otherwise keep the request (and this closure) for the socket's life.
      socket.off('close', release);
      // Not from here: a release runs inside an open, which a started upgrade could re-enter.
      if (this.#waiting.size > 0) queueMicrotask(() => this.#next());
    };
    this.#opening.set(request, release);
    socket.once('close', release);
    const url = request.url ?? '/';
    const mark = url.indexOf('?');
    const direct = this.#direct.get(mark < 0 ? url : url.slice(0, mark));
    if (direct) {
      // No app, no Request, no Context: the gateway decides from the headers (the sign-in is
      // verified again before the socket gets any data), then `ws` upgrades.
      direct(new NodeUpgradeHead(request, mark < 0 ? '' : url.slice(mark + 1), this))
        .then((answer) => {
          if (socket.destroyed) return release();
          if ('refuse' in answer) {
            const { status, retryAfterSeconds } = answer.refuse;
            return socket.end(statusLine(status, retryAfterSeconds?.toString()));
          }
          this.wss.handleUpgrade(request, socket, head, (ws) => open(ws, answer as WSEvents<WebSocket>));
        })
        .catch((error: unknown) => {
          console.error(error);
          release();
          socket.destroy();
        });
      return;
    }
    void this.#upgrade(request, socket, head).catch(() => {
      release();
      socket.destroy();
    });
  }

  opened(request: IncomingMessage) {
    this.#opening.get(request)?.();
  }

  direct(path: string, events: DirectEvents) {
    this.#direct.set(path, events);
  }

  async #upgrade(request: IncomingMessage, socket: Socket, head: Buffer) {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const headers = new Headers();
    for (const key in request.headers) {
      const value = request.headers[key];
      if (!value) continue;
      headers.append(key, Array.isArray(value) ? value[0]! : value);
    }
    this.#upgrading.add(request);
    const response = await this.app.request(url, { headers }, { incoming: request, outgoing: undefined });
    const events = this.#accepted.get(request);
    this.#accepted.delete(request);
    if (!events) {
      // Not upgraded (unauthenticated, wrong path, the database unreachable): the app's status,
      // and its Retry-After when it gave one (a 503 of the error handler says 5 s).
      const retryAfter = response.headers.get('retry-after') ?? (response.status === 503 ? '5' : undefined);
      socket.end(statusLine(response.status, retryAfter ?? undefined));
      return;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => open(ws, events));
  }

  /** The app's handler for `GET /ws`: asks the gateway for the socket's events, upgraded by `#upgrade`. */
  middleware(
    createEvents: (c: Parameters<MiddlewareHandler>[0]) => WSEvents | Promise<WSEvents>,
  ): MiddlewareHandler {
    return async (c, next) => {
      if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') return next();
      const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
      const events = await createEvents(c);
      if (incoming && this.#upgrading.has(incoming))
        this.#accepted.set(incoming, events as WSEvents<WebSocket>);
      return new Response();
    };
  }
}

/** An upgrade request as `SocketLayer.direct` sees it: its query, its headers, its end of opening. */
class NodeUpgradeHead implements UpgradeHead {
  constructor(
    readonly request: IncomingMessage,
    readonly query: string,
    readonly sockets: NodeSockets,
  ) {}
  header(name: string) {
    const value = this.request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }
  opened() {
    this.sockets.opened(this.request);
  }
}

function open(ws: PeerSocket, events: WSEvents<WebSocket>) {
  const context = new WSContext<WebSocket>(new RawInit(ws));
  ws[PEER] = { events, context };
  ws.on('message', onMessage);
  ws.on('close', onClose);
  ws.on('error', onError);
  try {
    events.onOpen?.(new Event('open'), context);
  } catch (error) {
    console.error(error);
  }
}

function onMessage(this: PeerSocket, data: RawData, isBinary: boolean) {
  const peer = this[PEER];
  if (!peer) return;
  for (const part of Array.isArray(data) ? data : [data]) {
    const payload = isBinary
      ? part instanceof ArrayBuffer
        ? part
        : part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength)
      : part.toString('utf-8');
    try {
      peer.events.onMessage?.(new MessageEvent('message', { data: payload }), peer.context);
    } catch (error) {
      console.error(error);
    }
  }
}

function onClose(this: PeerSocket, code: number, reason: Buffer) {
  const peer = this[PEER];
  if (!peer) return;
  try {
    peer.events.onClose?.(new CloseEvent('close', { code, reason: reason.toString() }), peer.context);
  } catch (error) {
    console.error(error);
  }
}

function onError(this: PeerSocket, error: Error) {
  const peer = this[PEER];
  try {
    // Node 20 has no global ErrorEvent: an Event carrying the error as ErrorEvent does.
    peer?.events.onError?.(
      Object.assign(new Event('error'), { error, message: error.message }) as ErrorEvent,
      peer.context,
    );
  } catch (e) {
    console.error(e);
  }
}

/** Node 20 has no global CloseEvent (Node 23 does): the fields the handlers read. */
const CloseEvent: typeof globalThis.CloseEvent =
  globalThis.CloseEvent ??
  (class extends Event {
    readonly code: number;
    readonly reason: string;
    readonly wasClean: boolean;
    constructor(type: string, init: CloseEventInit = {}) {
      super(type, init);
      this.code = init.code ?? 0;
      this.reason = init.reason ?? '';
      this.wasClean = init.wasClean ?? false;
    }
  } as unknown as typeof globalThis.CloseEvent);

/** An upgrade answered with a status of its own instead: the status line, its Retry-After, nothing else. */
function statusLine(status: number, retryAfter: string | undefined) {
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    (retryAfter ? `Retry-After: ${retryAfter}\r\n` : '') +
    'Connection: close\r\nContent-Length: 0\r\n\r\n'
  );
}

/**
 * 503 before the upgrade: a clean HTTP answer the client can read (Retry-After), where an
 * overflowing accept queue would have reset the connection (docs/decisions/0025-open-storms.md).
 */
function refuse(socket: Socket, retryAfterSeconds: number) {
  const body = OPENING_REFUSAL_BODY;
  socket.end(
    'HTTP/1.1 503 Service Unavailable\r\n' +
      `Retry-After: ${retryAfterSeconds}\r\n` +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
