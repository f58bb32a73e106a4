import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { api, LiveClient, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';

/**
 * GET /api/metrics and /dashboard answer from the document the realtime engine keeps while the
 * user has the portal open (src/dashboard/current.ts). A write must show in the very next read,
 * on either instance, however fresh the write: the stored document is used only when the leader
 * has published every change.
 */
describe('the dashboard from the stored document: every read sees every write before it', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  let manager: string;
  let projectId: number;
  let live: LiveClient;

  beforeAll(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.instances as [Instance, Instance];
    const admin = await signIn(a.base, ADMIN.username, ADMIN.password);
    expect(
      (await api(a.base, admin, 'POST', '/api/users', { username: 'mona', password: PW, role: 'manager' }))
        .status,
    ).toBe(201);
    manager = await signIn(a.base, 'mona', PW);
    const project = await api(a.base, manager, 'POST', '/api/projects', { name: 'Harbour' });
    expect(project.status).toBe(201);
    projectId = project.body.id;
    // Mona has the portal open on A: the engine keeps her document.
    live = await new LiveClient(a.wsBase, manager).connect();
  }, 120_000);
  afterAll(async () => {
    live?.close();
    await cluster?.stop();
  });

  it('a task created on one instance is counted by the next GET /api/metrics on either', async () => {
    const todo = async (on: Instance) => {
      const res = await api(on.base, manager, 'GET', '/api/metrics');
      expect(res.status).toBe(200);
      return res.body.team_tasks.todo as number;
    };
    let expected = await todo(a);
    for (let i = 0; i < 8; i++) {
      const writer = i % 2 ? a : b;
      const created = await api(writer.base, manager, 'POST', '/api/tasks', {
        project_id: projectId,
        title: `Buoy ${i}`,
      });
      expect(created.status).toBe(201);
      expected++;
      expect(await todo(a)).toBe(expected);
      expect(await todo(b)).toBe(expected);
    }
    // Quiet again: the document the socket holds says the same as the API.
    await live.waitFor(() => (live.doc as { team_tasks?: { todo: number } })?.team_tasks?.todo === expected);
  });

  it('the dashboard page shows the count the API gives, right after a change', async () => {
    const created = await api(b.base, manager, 'POST', '/api/tasks', {
      project_id: projectId,
      title: 'Mast',
    });
    expect(created.status).toBe(201);
    const metrics = await api(a.base, manager, 'GET', '/api/metrics');
    const page = await fetch(`${a.base}/dashboard`, { headers: { cookie: `portal_session=${manager}` } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Harbour');
    expect(metrics.body.projects[String(projectId)].total).toBe(9);
  });
});
