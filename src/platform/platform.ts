import type { Context, Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { SocketLayer } from '../realtime/socket.ts';

/** A server this process listens with; `close` stops accepting connections. */
export interface Listening {
  port: number;
  close(): void;
}

/** A fetch handler; `env` is what the runtime passes along (Deno: the connection's info). */
export type Fetch = (request: Request, env?: unknown) => Response | Promise<Response>;

/**
 * What differs between the runtimes the portal runs on (Node, Deno): serving HTTP, upgrading to
 * WebSocket, reading the peer address. Everything else (src/app.ts, src/server.ts, the realtime
 * engine) is the same code on both (docs/decisions/0020-deno-first-class-runtime.md).
 */
export interface Platform {
  readonly name: 'node' | 'deno';
  /** The TCP peer's address of a request; undefined when the runtime cannot tell. */
  connectionAddress(c: Context): string | undefined;
  /** This runtime's WebSocket upgrades for the app (called once, before `listen`). */
  // biome-ignore lint/suspicious/noExplicitAny: any app's environment
  sockets(app: Hono<any>): SocketLayer;
  /** Serves the public app (its WebSocket upgrades included). */
  listen(fetch: Fetch, where: { port: number; hostname: string }): Promise<Listening>;
  /** Serves Prometheus text on the internal metrics port (`GET /metrics` only). */
  listenMetrics(registry: Registry, where: { port: number; host: string }): Promise<Listening>;
}
