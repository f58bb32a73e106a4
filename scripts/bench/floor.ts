/**
 * The floor of `bench:cluster` (issue 12, goal 2): the same writes relayed to the same clients by
 * the thinnest path we could write, measured in the same run beside the portal's own path. One
 * script, two roles (FLOOR_ROLE):
 *
 * - `relay` (one process, like the leader): LISTEN on the same `portal_changes` NOTIFY the
 *   leader listens to, read the new change_log rows (the NOTIFY carries no payload, so one
 *   SELECT per wake-up is the least any relay must do to learn whom a change touches), and
 *   PUBLISH one small frame per affected user to that user's Redis channel. No batching window,
 *   no dashboards, no documents, no versions, no history.
 * - `instance` (one per portal instance): a bare `ws` server; a socket says whose it is in its
 *   URL (`/?user=ID`); the first socket of a user SUBSCRIBEs to the user's channel, and each
 *   message is `ws.send` as is to that user's sockets here. No authentication, no heartbeat, no
 *   sessions, no resume.
 *
 * The load generators (cluster-worker.ts) hold one floor socket beside each portal socket, on
 * the floor instance with the same index, so both paths fan out to as many sockets on as many
 * processes, on the same machine, at the same moment, for the same writes.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { type WebSocket, WebSocketServer } from 'ws';

const role = process.env.FLOOR_ROLE;
const redisUrl = process.env.FLOOR_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The Redis channel of one user's floor frames. */
const channel = (user: number | string) => `${process.env.FLOOR_PREFIX}:floor:${user}`;

async function relay() {
  const client = new pg.Client({
    connectionString: process.env.FLOOR_PG_URL,
    application_name: 'bench-floor',
  });
  await client.connect();
  const redis = new Redis(redisUrl);
  // Ids are handed out before commit, so a smaller id can become visible after a larger one:
  // re-read a window below the newest id seen and drop the repeats.
  const seen = new Set<number>();
  let newest = Number(
    (await client.query('select coalesce(max(id), 0)::text as id from change_log')).rows[0].id,
  );
  let running = false;
  let again = false;
  const read = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    do {
      again = false;
      const low = Math.max(0, newest - 2000);
      const { rows } = await client.query<{ id: string; users: number[]; status: string | null }>(
        `select id::text as id, affected_user_ids as users, after->>'status' as status
           from change_log where id > $1 and table_name = 'tasks' order by id`,
        [low],
      );
      for (const r of rows) {
        const id = Number(r.id);
        if (seen.has(id)) continue;
        seen.add(id);
        newest = Math.max(newest, id);
        if (r.status === null) continue;
        for (const user of r.users)
          void redis.publish(channel(user), `{"user":${user},"status":"${r.status}"}`);
      }
      for (const id of seen) if (id <= low) seen.delete(id);
    } while (again);
    running = false;
  };
  client.on('notification', () => void read().catch((e) => console.error('floor relay:', e.message)));
  await client.query('listen portal_changes');
}

async function instance() {
  const subscriber = new Redis(redisUrl);
  const sockets = new Map<string, Set<WebSocket>>();
  subscriber.on('message', (ch: string, message: string) => {
    const set = sockets.get(ch);
    if (set) for (const ws of set) ws.send(message);
  });
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: Number(process.env.FLOOR_PORT),
    backlog: 4096,
  });
  server.on('connection', (ws, request) => {
    const user = new URL(request.url ?? '/', 'http://floor').searchParams.get('user') ?? '0';
    const ch = channel(user);
    let set = sockets.get(ch);
    if (!set) {
      set = new Set();
      sockets.set(ch, set);
      void subscriber.subscribe(ch);
    }
    set.add(ws);
    ws.on('close', () => {
      set.delete(ws);
      if (set.size === 0 && sockets.get(ch) === set) {
        sockets.delete(ch);
        void subscriber.unsubscribe(ch).catch(() => {});
      }
    });
    ws.on('error', () => {});
  });
  await new Promise((resolve) => server.once('listening', resolve));
}

if (role === 'relay') await relay();
else if (role === 'instance') await instance();
else throw new Error(`FLOOR_ROLE must be relay or instance, not ${role}`);
process.send?.({ ready: true });
