import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Cluster, startCluster } from '../support/cluster.ts';
import { api, LiveClient, signIn } from '../support/live-client.ts';

describe('fan-out across instances (real PostgreSQL, Redis, two processes)', () => {
  let cluster: Cluster;
  let admin: string;
  beforeAll(async () => {
    cluster = await startCluster(2);
    admin = await signIn(cluster.instances[0]!.base, ADMIN.username, ADMIN.password);
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('every session of a user, on every instance, gets the delta; an unaffected user gets nothing', async () => {
    const [a, b] = cluster.instances as [(typeof cluster.instances)[0], (typeof cluster.instances)[0]];
    const pw = 'a-long-user-password';
    const user = await api(a.base, admin, 'POST', '/api/users', {
      username: 'worker',
      password: pw,
      role: 'user',
    });
    await api(a.base, admin, 'POST', '/api/users', { username: 'bystander', password: pw, role: 'user' });
    const project = await api(a.base, admin, 'POST', '/api/projects', { name: 'Fan-out' });
    const workerToken = await signIn(a.base, 'worker', pw);
    const bystanderToken = await signIn(b.base, 'bystander', pw);

    const tabA = await new LiveClient(a.wsBase, workerToken).connect();
    const tabB = await new LiveClient(b.wsBase, workerToken).connect();
    const adminB = await new LiveClient(b.wsBase, admin).connect();
    const other = await new LiveClient(a.wsBase, bystanderToken).connect();
    expect(tabA.frames[0]).toMatchObject({ type: 'hello', resumed: false });
    expect(tabA.frames[1]).toMatchObject({ type: 'snapshot' });
    // Both tabs share the user's one version sequence (it starts at firstSeq(), not at 1).
    await tabB.waitFor(() => tabB.seq > 0);
    expect(tabB.seq).toBe(tabA.seq);
    expect(Number.isSafeInteger(tabA.seq)).toBe(true);

    const task = await api(b.base, admin, 'POST', '/api/tasks', {
      project_id: project.body.id,
      title: 'Ship it',
      assignee_id: user.body.id,
    });
    expect(task.status).toBe(201);
    for (const tab of [tabA, tabB]) await tab.waitFor(() => (tab.doc as any)?.my_tasks?.todo === 1);
    await adminB.waitFor(() => (adminB.doc as any)?.org_tasks?.todo === 1);
    expect(tabA.seq).toBe(tabB.seq);
    expect(tabA.gaps).toEqual([]);

    const metrics = await api(a.base, workerToken, 'GET', '/api/metrics');
    expect(tabA.doc).toEqual(metrics.body);
    expect(tabB.doc).toEqual(metrics.body);
    await new Promise((r) => setTimeout(r, 300));
    expect(other.frames.map((f) => f.type)).toEqual(['hello', 'snapshot']);
    for (const c of [tabA, tabB, adminB, other]) c.close();
  });
});
