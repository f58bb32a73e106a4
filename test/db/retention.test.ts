import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Cluster, startCluster } from '../support/cluster.ts';
import { api, signIn } from '../support/live-client.ts';

/**
 * CHANGE_LOG_RETENTION_DAYS: the leader deletes changes older than the retention on its sweeps
 * (the audit trail and the realtime feed both read change_log), and keeps everything younger.
 */
describe('change log retention', () => {
  let cluster: Cluster;
  let sql: pg.Client;

  beforeAll(async () => {
    cluster = await startCluster(1, { sweepMs: 500, env: { CHANGE_LOG_RETENTION_DAYS: '30' } });
    sql = new pg.Client({ connectionString: cluster.databaseUrl });
    await sql.connect();
  }, 60_000);
  afterAll(async () => {
    await sql?.end();
    await cluster?.stop();
  });

  it('deletes changes older than the retention on a sweep, and only those', async () => {
    const inst = cluster.instances[0]!;
    const token = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const project = (await api(inst.base, token, 'POST', '/api/projects', { name: 'Kept' })).body.id;
    const ids: number[] = [];
    for (const title of ['old one', 'old two', 'recent']) {
      ids.push((await api(inst.base, token, 'POST', '/api/tasks', { project_id: project, title })).body.id);
    }
    const [oldOne, oldTwo, recent] = ids as [number, number, number];
    // Let the leader read them first (the cursor moves past them), then make two of them old.
    await new Promise((r) => setTimeout(r, 1500));
    await sql.query(
      `update change_log set at = now() - interval '40 days' where table_name = 'tasks' and row_id = any($1)`,
      [[oldOne, oldTwo]],
    );
    await sql.query(
      `update change_log set at = now() - interval '29 days' where table_name = 'tasks' and row_id = $1`,
      [recent],
    );
    const rowsOf = async (rowIds: number[]) =>
      (
        await sql.query<{ n: string }>(
          `select count(*)::text as n from change_log where table_name = 'tasks' and row_id = any($1)`,
          [rowIds],
        )
      ).rows[0]!.n;
    const deadline = Date.now() + 15_000;
    while ((await rowsOf([oldOne, oldTwo])) !== '0') {
      if (Date.now() > deadline) throw new Error('old changes were never pruned');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(await rowsOf([recent])).toBe('1');
    // The audit trail shows what is left: the 29-day-old task and the project.
    const audit = await api(inst.base, token, 'GET', '/api/audit?entity=tasks');
    expect(audit.body.items.map((e: { row_id: number }) => e.row_id)).toEqual([recent]);
    expect(
      (await api(inst.base, token, 'GET', `/api/audit?entity=projects&row_id=${project}`)).body.total,
    ).toBe(1);
  });
});
