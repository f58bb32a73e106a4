import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { PG_ADMIN_URL } from '../support/env.js';
import { api, LiveClient, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Which instance leads: the one whose listener connection holds the leader's advisory lock. */
async function leaderOf(cluster: Cluster): Promise<Instance | undefined> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ application_name: string }>(
      `select a.application_name from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and l.objid = 7262003 and l.granted and a.datname = $1`,
      [new URL(cluster.databaseUrl).pathname.slice(1)],
    );
    const pid = Number(rows[0]?.application_name.split(':')[1]);
    return cluster.instances.find(
      (i) => i.child.pid === pid && i.child.exitCode === null && i.child.signalCode === null,
    );
  } finally {
    await admin.end();
  }
}

async function waitForLeader(cluster: Cluster, not?: Instance, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leader = await leaderOf(cluster);
    if (leader && leader !== not) return leader;
    if (Date.now() > deadline) throw new Error('no leader');
    await sleep(100);
  }
}

/** A user with one task in a project, and the means to flip its status from outside the portal. */
async function setUp(cluster: Cluster, name: string) {
  const base = cluster.instances[0]!.base;
  const admin = await signIn(base, ADMIN.username, ADMIN.password);
  const user = await api(base, admin, 'POST', '/api/users', { username: name, password: PW, role: 'user' });
  const project = await api(base, admin, 'POST', '/api/projects', { name: `${name} project` });
  const tasks: number[] = [];
  for (let i = 0; i < 5; i++) {
    tasks.push(
      (
        await api(base, admin, 'POST', '/api/tasks', {
          project_id: project.body.id,
          title: `t${i}`,
          assignee_id: user.body.id,
        })
      ).body.id,
    );
  }
  return { admin, token: await signIn(base, name, PW), tasks };
}

async function converge(clients: LiveClient[], base: string, token: string, timeoutMs = 15_000) {
  const truth = (await api(base, token, 'GET', '/api/metrics')).body;
  for (const c of clients) {
    await c.waitFor(() => JSON.stringify(c.doc) === JSON.stringify(truth), timeoutMs);
    expect(c.doc).toEqual(truth);
  }
}

describe('realtime under failure', () => {
  const clusters: Cluster[] = [];
  const redisServers: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of clusters) await c.stop();
    for (const r of redisServers) r.kill('SIGKILL');
  });

  it('drops a client that stops answering pings within two intervals, and keeps one that answers', async () => {
    const cluster = await startCluster(1, { heartbeatMs: 500 });
    clusters.push(cluster);
    const [inst] = cluster.instances as [Instance];
    const token = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const silent = await new LiveClient(inst.wsBase, token, { autoPong: false }).connect();
    const healthy = await new LiveClient(inst.wsBase, token).connect();
    const started = Date.now();
    await silent.waitFor(() => silent.closeCode !== undefined, 3000);
    const after = Date.now() - started;
    expect(after).toBeLessThanOrEqual(3 * 500 + 500);
    await sleep(1500);
    expect(healthy.closeCode).toBeUndefined();
    healthy.close();
  });

  it('fails over when the leader is killed mid-stream, and delivers what changed meanwhile', async () => {
    const cluster = await startCluster(3);
    clusters.push(cluster);
    const { token, tasks } = await setUp(cluster, 'fiona');
    const leader = await waitForLeader(cluster);
    const survivors = cluster.instances.filter((i) => i !== leader);
    const watchers = await Promise.all(survivors.map((i) => new LiveClient(i.wsBase, token).connect()));
    const outside = new pg.Client({ connectionString: cluster.databaseUrl });
    await outside.connect();
    const statuses = ['todo', 'in_progress', 'blocked', 'done'];
    for (let i = 0; i < 40; i++) {
      await outside.query('update tasks set status = $1 where id = $2', [
        statuses[i % 4],
        tasks[i % tasks.length],
      ]);
      if (i === 15) await leader.stop('SIGKILL');
      await sleep(50);
    }
    const next = await waitForLeader(cluster, leader);
    expect(survivors).toContain(next);
    await converge(watchers, survivors[0]!.base, token);
    for (const w of watchers) expect(w.gaps).toEqual([]);
    await outside.end();
    for (const w of watchers) w.close();
  }, 60_000);

  it('recovers the change feed when the database drops every connection, and catches up', async () => {
    const cluster = await startCluster(2);
    clusters.push(cluster);
    const { token, tasks } = await setUp(cluster, 'gil');
    const watchers = await Promise.all(
      cluster.instances.map((i) => new LiveClient(i.wsBase, token).connect()),
    );
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    const dbName = new URL(cluster.databaseUrl).pathname.slice(1);
    await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [dbName],
    );
    const outside = new pg.Client({ connectionString: cluster.databaseUrl });
    await outside.connect();
    // Written while the leader has no connection: only the persisted cursor can bring it over.
    await outside.query(`update tasks set status = 'done' where id = any($1)`, [tasks.slice(0, 3)]);
    await waitForLeader(cluster);
    await converge(watchers, cluster.instances[0]!.base, token);
    await outside.query(`update tasks set status = 'blocked' where id = $1`, [tasks[4]]);
    await converge(watchers, cluster.instances[1]!.base, token);
    expect((watchers[0]!.doc as any).my_tasks.done).toBe(3);
    await outside.end();
    await admin.end();
    for (const w of watchers) w.close();
  }, 60_000);

  it('survives a Redis restart that loses everything: no crash, clients recover by resuming', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const startRedis = async () => {
      const r = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      );
      redisServers.push(r);
      await sleep(300);
      return r;
    };
    let redis = await startRedis();
    const cluster = await startCluster(2, { redisUrl: `redis://127.0.0.1:${port}` });
    clusters.push(cluster);
    const { token, tasks } = await setUp(cluster, 'hana');
    const watchers = await Promise.all(
      cluster.instances.map((i) => new LiveClient(i.wsBase, token).connect()),
    );
    redis.kill('SIGKILL');
    await sleep(500);
    redis = await startRedis();
    await sleep(1500);
    for (const inst of cluster.instances) {
      expect(inst.child.exitCode).toBeNull();
      expect((await fetch(`${inst.base}/healthz`)).status).toBe(200);
    }
    const outside = new pg.Client({ connectionString: cluster.databaseUrl });
    await outside.connect();
    await outside.query(`update tasks set status = 'in_progress' where id = any($1)`, [tasks]);
    // A browser reconnects a closed socket and resumes; an open one is brought up to date by its instance.
    const truth = (await api(cluster.instances[0]!.base, token, 'GET', '/api/metrics')).body;
    for (const [i, w] of watchers.entries()) {
      const deadline = Date.now() + 15_000;
      let current = w;
      while (JSON.stringify(current.doc) !== JSON.stringify(truth)) {
        if (Date.now() > deadline)
          throw new Error(`session did not recover: ${JSON.stringify(current.frames.slice(-3))}`);
        if (current.closeCode !== undefined) {
          const again = new LiveClient(cluster.instances[i]!.wsBase, token);
          again.doc = current.doc;
          again.seq = current.seq;
          await again.connect({ sessionId: current.sessionId!, lastSeq: current.seq });
          current = again;
        }
        await sleep(100);
      }
      expect(current.doc).toEqual(truth);
      current.close();
    }
    await outside.end();
  }, 60_000);

  it('drains on SIGTERM: sockets close with 4000 and resume elsewhere without losing a change', async () => {
    const cluster = await startCluster(2);
    clusters.push(cluster);
    const { token, tasks } = await setUp(cluster, 'ivo');
    const leader = await waitForLeader(cluster);
    const other = cluster.instances.find((i) => i !== leader)!;
    const onLeader = await new LiveClient(leader.wsBase, token).connect();
    await onLeader.waitFor(() => onLeader.seq > 0);
    await leader.stop('SIGTERM');
    await onLeader.waitFor(() => onLeader.closeCode !== undefined);
    expect(onLeader.closeCode).toBe(4000);
    const outside = new pg.Client({ connectionString: cluster.databaseUrl });
    await outside.connect();
    await outside.query(`update tasks set status = 'done' where id = $1`, [tasks[0]]);
    expect(await waitForLeader(cluster)).toBe(other);
    await sleep(300);
    const resumed = new LiveClient(other.wsBase, token);
    resumed.doc = onLeader.doc;
    resumed.seq = onLeader.seq;
    await resumed.connect({ sessionId: onLeader.sessionId!, lastSeq: onLeader.seq });
    await resumed.waitFor(() => resumed.frames.length >= 2);
    expect(resumed.frames[0]).toMatchObject({ type: 'hello', resumed: true });
    await converge([resumed], other.base, token);
    expect(resumed.gaps).toEqual([]);
    await outside.end();
    resumed.close();
  }, 60_000);
});
