import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Cluster, startCluster } from '../support/cluster.ts';
import { PG_ADMIN_URL, RUN_ID } from '../support/env.ts';
import { api, LiveClient, signIn } from '../support/live-client.ts';
import { freshPgDatabase } from '../support/pg.ts';

/**
 * Behind a transaction pooler the pool may not LISTEN or hold the leader's lock: DATABASE_LISTEN_URL
 * gives the listener a direct connection of its own. Here the two URLs differ by role, so the
 * server's own bookkeeping (pg_stat_activity) shows which connection went where.
 */
describe('DATABASE_LISTEN_URL and DATABASE_POOL_MAX', () => {
  const role = `${RUN_ID}_listener`.replace(/[^a-z0-9_]/g, '_').slice(0, 63);
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  let cluster: Cluster;

  beforeAll(async () => {
    await admin.connect();
    await admin.query(`create role "${role}" login superuser`);
    db = await freshPgDatabase('listen');
    const listenUrl = new URL(db.url);
    listenUrl.username = role;
    cluster = await startCluster(1, {
      databaseUrl: db.url,
      env: { DATABASE_LISTEN_URL: listenUrl.toString(), DATABASE_POOL_MAX: '3' },
    });
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    await db?.drop();
    await admin.query(`drop role if exists "${role}"`);
    await admin.end();
  });

  it('leads and listens on the listen URL, keeps the pool to its size, and stays live', async () => {
    const inst = cluster.instances[0]!;
    const token = await signIn(inst.base, ADMIN.username, ADMIN.password);
    // Enough concurrent requests to fill a pool of 3 several times over.
    await Promise.all(Array.from({ length: 30 }, () => api(inst.base, token, 'GET', '/api/tasks?limit=5')));
    const { rows } = await admin.query<{ usename: string; application_name: string }>(
      'select usename, application_name from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [db.name],
    );
    const listeners = rows.filter((r) => r.application_name.startsWith('portal-listener'));
    const pooled = rows.filter((r) => r.application_name === 'portal');
    expect(listeners.length).toBeGreaterThanOrEqual(1);
    expect(listeners.every((r) => r.usename === role)).toBe(true);
    expect(pooled.length).toBeGreaterThanOrEqual(1);
    expect(pooled.length).toBeLessThanOrEqual(3);
    expect(pooled.every((r) => r.usename === 'postgres')).toBe(true);

    // The leader on that connection turns a write into a delta.
    const live = await new LiveClient(inst.wsBase, token).connect();
    await live.waitFor(() => live.seq > 0);
    await api(inst.base, token, 'POST', '/api/projects', { name: 'Heard' });
    await live.waitFor(() => live.deltas().length > 0, 10_000);
    live.close();
  });
});
