import type { ListenerConnection } from '../database.ts';

/** The subset of `pg.Client` and Neon's `Client` a listener needs; both speak it. */
export interface ClientLike {
  connect(): Promise<unknown>;
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  on(event: 'notification', listener: (message: { channel: string }) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  end(): Promise<void>;
}

/** A dedicated connection for LISTEN (and the leader's advisory lock), from a TCP or WebSocket client. */
export async function clientListener(client: ClientLike): Promise<ListenerConnection> {
  const channels = new Map<string, () => void>();
  let lost: ((error: Error) => void) | undefined;
  let closed = false;
  const fail = (error: Error) => {
    if (closed) return;
    closed = true;
    lost?.(error);
  };
  client.on('notification', (message) => channels.get(message.channel)?.());
  client.on('error', fail);
  client.on('end', () => fail(new Error('listener connection ended')));
  await client.connect();
  return {
    async query<T>(text: string, params?: unknown[]) {
      return (await client.query(text, params)).rows as T[];
    },
    async listen(channel, onNotify) {
      channels.set(channel, onNotify);
      await client.query(`listen "${channel.replace(/"/g, '')}"`);
    },
    onLost(callback) {
      lost = callback;
    },
    async close() {
      closed = true;
      await client.end().catch(() => {});
    },
  };
}
