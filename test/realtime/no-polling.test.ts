import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Cluster, startCluster } from '../support/cluster.js';
import { PG_ADMIN_URL } from '../support/env.js';
import { api, LiveClient, signIn } from '../support/live-client.js';

const SWEEP_MS = 1000;
const WINDOW_MS = 5000;

/**
 * Idle dashboards cost the database nothing but the leader's one safety-sweep read per sweep
 * interval, however many sessions are open; idle sockets receive nothing but protocol pings.
 */
describe('no polling', () => {
  let cluster: Cluster;
  let stats: pg.Client;
  const clients: LiveClient[] = [];
  beforeAll(async () => {
    cluster = await startCluster(2, { sweepMs: SWEEP_MS, heartbeatMs: 1000 });
    stats = new pg.Client({ connectionString: PG_ADMIN_URL });
    await stats.connect();
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.close();
    await stats?.end();
    await cluster?.stop();
  });

  /** Transactions the cluster's database ran during the window (from another database's connection). */
  async function transactionsDuring(ms: number): Promise<number> {
    const name = new URL(cluster.databaseUrl).pathname.slice(1);
    const read = async () => {
      await stats.query('select pg_stat_clear_snapshot()');
      const { rows } = await stats.query<{ n: string }>(
        'select (xact_commit + xact_rollback)::text as n from pg_stat_database where datname = $1',
        [name],
      );
      return Number(rows[0]!.n);
    };
    await new Promise((r) => setTimeout(r, 1500)); // let earlier activity reach the statistics
    const before = await read();
    await new Promise((r) => setTimeout(r, ms));
    await new Promise((r) => setTimeout(r, 1000)); // statistics are flushed about once a second
    return (await read()) - before;
  }

  async function openSessions(users: number, perUser: number) {
    const base = cluster.instances[0]!.base;
    const admin = await signIn(base, ADMIN.username, ADMIN.password);
    const opened: LiveClient[] = [];
    for (let u = 0; u < users; u++) {
      const name = `idle${clients.length}_${u}`;
      await api(base, admin, 'POST', '/api/users', {
        username: name,
        password: 'a-long-user-password',
        role: 'user',
      });
      const token = await signIn(base, name, 'a-long-user-password');
      for (let s = 0; s < perUser; s++) {
        const inst = cluster.instances[(u + s) % cluster.instances.length]!;
        opened.push(new LiveClient(inst.wsBase, token));
      }
    }
    for (let i = 0; i < opened.length; i += 100)
      await Promise.all(opened.slice(i, i + 100).map((c) => c.connect()));
    for (const c of opened) await c.waitFor(() => c.seq > 0, 20_000);
    clients.push(...opened);
    return opened;
  }

  it('holds 1,000 idle sessions with one database read per sweep and no frames', async () => {
    const few = await openSessions(2, 5);
    const withFew = await transactionsDuring(WINDOW_MS);
    const many = await openSessions(50, 20);
    expect(clients.length).toBe(1010);
    const framesBefore = clients.map((c) => c.frames.length);
    const withMany = await transactionsDuring(WINDOW_MS);
    const sweeps = WINDOW_MS / SWEEP_MS;
    // About one read per sweep (timing at the window's edges allows a few more), whatever the session count.
    expect(withMany).toBeLessThanOrEqual(sweeps + 4);
    expect(withMany).toBeLessThanOrEqual(withFew + 3);
    expect(withMany).toBeGreaterThanOrEqual(1);
    expect(clients.map((c) => c.frames.length)).toEqual(framesBefore);
    expect(many.every((c) => c.closeCode === undefined) && few.every((c) => c.closeCode === undefined)).toBe(
      true,
    );
    console.log(
      `database transactions in ${WINDOW_MS} ms: ${withFew} with 10 sessions, ${withMany} with 1,010`,
    );
  }, 120_000);
});
