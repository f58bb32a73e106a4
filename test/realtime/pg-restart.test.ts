import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN, type Cluster, startCluster } from '../support/cluster.ts';
import { api, LiveClient, signIn } from '../support/live-client.ts';
import { startPrivatePostgres } from '../support/private-pg.ts';

/** PostgreSQL restarts under a running cluster: the API and the change feed recover and catch up. */
describe('PostgreSQL restart', () => {
  let server: Awaited<ReturnType<typeof startPrivatePostgres>> | undefined;
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
    server?.stop();
  });

  it('recovers the feed after a real server restart and delivers changes made right after it', async () => {
    server = await startPrivatePostgres();
    cluster = await startCluster(2, { databaseUrl: server.url });
    const [a, b] = cluster.instances;
    const admin = await signIn(a!.base, ADMIN.username, ADMIN.password);
    const user = await api(a!.base, admin, 'POST', '/api/users', {
      username: 'pia',
      password: 'a-long-user-password',
      role: 'user',
    });
    const project = await api(a!.base, admin, 'POST', '/api/projects', { name: 'Restart' });
    const task = await api(a!.base, admin, 'POST', '/api/tasks', {
      project_id: project.body.id,
      title: 'Survive',
      assignee_id: user.body.id,
    });
    const token = await signIn(a!.base, 'pia', 'a-long-user-password');
    const watchers = [
      await new LiveClient(a!.wsBase, token).connect(),
      await new LiveClient(b!.wsBase, token).connect(),
    ];
    for (const w of watchers) await w.waitFor(() => w.seq > 0);

    server.restart();
    // Straight after the restart, before the leader has listened again: only the cursor can bring this over.
    const outside = new pg.Client({ connectionString: server.url });
    await outside.connect();
    await outside.query(`update tasks set status = 'done' where id = $1`, [task.body.id]);
    for (const w of watchers) await w.waitFor(() => (w.doc as any)?.my_tasks?.done === 1, 20_000);

    // Both instances serve the API again, and later changes keep flowing.
    await outside.query(`update tasks set status = 'blocked' where id = $1`, [task.body.id]);
    const truth = (await api(b!.base, token, 'GET', '/api/metrics')).body;
    expect(truth.my_tasks.blocked).toBe(1);
    for (const w of watchers) {
      await w.waitFor(() => JSON.stringify(w.doc) === JSON.stringify(truth), 20_000);
      expect(w.gaps).toEqual([]);
      w.close();
    }
    expect((await api(a!.base, token, 'GET', '/api/me')).status).toBe(200);
    await outside.end();

    // While it is down, the API says so (503, the JSON error body, Retry-After), never a 500.
    server.down();
    const down = await fetch(`${a!.base}/api/tasks`, { headers: { authorization: `Bearer ${token}` } });
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('5');
    expect((await down.json()).error.code).toBe('unavailable');
    // So does a WebSocket upgrade: refused before the upgrade, with the status and its Retry-After.
    const upgrade = await new Promise<{ status?: number; retryAfter?: string }>((resolve) => {
      const ws = new WebSocket(`${a!.wsBase}/ws`, { headers: { authorization: `Bearer ${token}` } });
      ws.on('unexpected-response', (_request, response) => {
        resolve({ status: response.statusCode, retryAfter: response.headers['retry-after'] });
        ws.terminate();
      });
      ws.on('open', () => {
        resolve({});
        ws.terminate();
      });
      ws.on('error', () => {});
    });
    expect(upgrade).toEqual({ status: 503, retryAfter: '5' });
    expect((await fetch(`${b!.base}/readyz`)).status).toBe(503);
    server.start();
    for (let i = 0; ; i++) {
      const res = await api(b!.base, token, 'GET', '/api/tasks');
      if (res.status === 200) break;
      expect(res.status).toBe(503);
      if (i > 100) throw new Error('the API did not come back');
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 90_000);
});
