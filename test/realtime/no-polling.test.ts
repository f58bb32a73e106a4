import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN, type Cluster, startCluster } from '../support/cluster.ts';
import { PG_ADMIN_URL } from '../support/env.ts';
import { api, signIn } from '../support/live-client.ts';

const SWEEP_MS = 1000;
const WINDOW_MS = 5000;
/**
 * PostgreSQL 15 holds a backend's counters back for up to 10 s (PGSTAT_IDLE_INTERVAL) when its
 * last transaction came less than a second after its previous flush: wait that long after the
 * sockets are opened, so their sign-in reads are not counted as idle traffic.
 */
const STATS_SETTLE_MS = 10_500;

/** An idle socket: every frame it got (type only) and how many protocol pings. */
interface Idle {
  ws: WebSocket;
  frames: string[];
  pings: number;
}

/**
 * One process-wide pool of plain ws clients: no timer per socket, a socket is ready when its
 * snapshot arrives. (LiveClient polls a predicate per socket, too much for a thousand.)
 */
const pool: Idle[] = [];

function openIdle(wsBase: string, token: string): Promise<Idle> {
  const ws = new WebSocket(`${wsBase}/ws`, { headers: { authorization: `Bearer ${token}` } });
  const idle: Idle = { ws, frames: [], pings: 0 };
  pool.push(idle);
  ws.on('ping', () => idle.pings++);
  return new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      idle.frames.push((JSON.parse(String(data)) as { type: string }).type);
      if (idle.frames.at(-1) === 'snapshot') resolve(idle);
    });
    ws.on('close', (code) => reject(new Error(`socket closed with ${code}: ${idle.frames}`)));
    ws.on('error', reject);
  });
}

/** Every transaction of the cluster's database, from a connection to another database. */
let stats: pg.Client;
let datname: string;
async function transactions(): Promise<number> {
  await stats.query('select pg_stat_clear_snapshot()');
  const { rows } = await stats.query<{ n: string }>(
    'select (xact_commit + xact_rollback)::text as n from pg_stat_database where datname = $1',
    [datname],
  );
  return Number(rows[0]!.n);
}

/**
 * Database transactions of the whole cluster during an idle window, and the frames the pool's
 * sockets got meanwhile. Our own statements run before the settling wait or go to another
 * database (`test`), so none are counted.
 */
async function idleWindow(databaseUrl: string) {
  // Vacuum and analyze now, so that autovacuum finds nothing to do on this database in the window.
  const own = new pg.Client({ connectionString: databaseUrl });
  await own.connect();
  await own.query('vacuum analyze');
  await own.end();
  await new Promise((r) => setTimeout(r, STATS_SETTLE_MS));
  const framesBefore = pool.map((s) => s.frames.length);
  const pingsBefore = pool.map((s) => s.pings);
  const before = await transactions();
  const started = Date.now();
  await new Promise((r) => setTimeout(r, WINDOW_MS));
  const frames = pool.map((s, i) => s.frames.length - framesBefore[i]!);
  const pings = pool.map((s, i) => s.pings - pingsBefore[i]!);
  await new Promise((r) => setTimeout(r, 1500)); // the last sweep's counters reach the statistics
  const counted = (await transactions()) - before;
  // Sweeps between the two reads (the window and the wait after it).
  return { transactions: counted, sweeps: (Date.now() - started) / SWEEP_MS, frames, pings };
}

/**
 * With no changes, the database sees the realtime leader's one change-log read per sweep and
 * nothing else, however many sessions are open: no per-session or per-instance polling. The
 * sockets meanwhile get only protocol pings.
 */
describe('no polling: idle sessions cost no database traffic', () => {
  let cluster: Cluster;
  let admin: string;
  let userCount = 0;
  beforeAll(async () => {
    cluster = await startCluster(2, { sweepMs: SWEEP_MS, heartbeatMs: 1000 });
    datname = new URL(cluster.databaseUrl).pathname.slice(1);
    stats = new pg.Client({ connectionString: PG_ADMIN_URL });
    await stats.connect();
    admin = await signIn(cluster.instances[0]!.base, ADMIN.username, ADMIN.password);
  }, 60_000);
  afterAll(async () => {
    for (const s of pool) s.ws.terminate();
    await stats?.end();
    await cluster?.stop();
  });

  /** Creates `users` users through the admin API and opens `perUser` sockets each, alternating instances. */
  async function openSessions(users: number, perUser: number) {
    const tokens: string[] = [];
    for (let i = 0; i < users; i += 5) {
      const batch = Array.from({ length: Math.min(5, users - i) }, (_, k) => `idle${userCount + i + k}`);
      tokens.push(
        ...(await Promise.all(
          batch.map(async (username, k) => {
            const base = cluster.instances[k % 2]!.base;
            const created = await api(base, admin, 'POST', '/api/users', {
              username,
              password: 'a-long-user-password',
              role: 'user',
            });
            expect(created.status).toBe(201);
            return signIn(base, username, 'a-long-user-password');
          }),
        )),
      );
    }
    userCount += users;
    const targets = tokens.flatMap((token, u) =>
      Array.from({ length: perUser }, (_, s) => ({ token, instance: cluster.instances[(u + s) % 2]! })),
    );
    const opened: Idle[] = [];
    for (let i = 0; i < targets.length; i += 100) {
      opened.push(
        ...(await Promise.all(targets.slice(i, i + 100).map((t) => openIdle(t.instance.wsBase, t.token)))),
      );
    }
    return opened;
  }

  it('holds 1,000 idle sessions on two instances with one change-log read per sweep and no frames', async () => {
    const preload = await stats.query<{ setting: string }>(
      `select setting from pg_settings where name = 'shared_preload_libraries'`,
    );
    // pg_stat_statements is installed but not preloaded here (loading it needs a restart, which
    // other test files could not bear): count transactions in pg_stat_database instead.
    console.log(`shared_preload_libraries: '${preload.rows[0]?.setting}'; counting pg_stat_database xacts`);

    const few = await openSessions(2, 5);
    const withFew = await idleWindow(cluster.databaseUrl);
    const many = await openSessions(50, 20);
    expect(pool).toHaveLength(1010);
    for (const instance of cluster.instances) {
      // Spread over both instances: each holds half of every user's sockets.
      expect(many.filter((s) => s.ws.url.startsWith(instance.wsBase))).toHaveLength(500);
    }
    const withMany = await idleWindow(cluster.databaseUrl);

    console.log(
      `transactions on the cluster's database: ${withFew.transactions} in ${withFew.sweeps.toFixed(1)} sweep ` +
        `intervals with ${few.length} sessions, ${withMany.transactions} in ${withMany.sweeps.toFixed(1)} with ${pool.length}`,
    );
    // About one change-log read per sweep, plus each instance's one sign-in re-check per heartbeat
    // (both 1 s here: the re-check is one statement for all of an instance's sockets, so a revoked
    // sign-in loses its sockets within a beat), with a sweep's counters at either edge held back...
    const expected = (n: number) => n * (1 + cluster.instances.length);
    expect(withMany.transactions).toBeGreaterThanOrEqual(expected(Math.floor(withMany.sweeps)) - 4);
    expect(withMany.transactions).toBeLessThanOrEqual(expected(Math.ceil(withMany.sweeps)) + 4);
    // ...and the same with 10 sessions as with 1,010.
    expect(Math.abs(withMany.transactions - withFew.transactions)).toBeLessThanOrEqual(5);

    // Nothing but hello + snapshot ever reached a socket; pings kept every one of them alive.
    expect(withFew.frames.every((n) => n === 0)).toBe(true);
    expect(withMany.frames.every((n) => n === 0)).toBe(true);
    expect(pool.every((s) => s.frames.join() === 'hello,snapshot')).toBe(true);
    expect(withMany.pings.filter((n) => n === 0)).toEqual([]);
    expect(pool.filter((s) => s.ws.readyState !== WebSocket.OPEN).length).toBe(0);
  }, 120_000);
});
