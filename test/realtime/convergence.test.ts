import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../src/db/seed/organisation.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, LiveClient, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';
const STATUSES = ['todo', 'in_progress', 'blocked', 'done'] as const;

/**
 * A seeded random run of writes — through the API on every instance, by different roles, and
 * with plain SQL from outside — while sessions watch from every instance. Afterwards every
 * session's document, rebuilt from its snapshot and deltas, is exactly GET /api/metrics.
 */
describe('convergence under random writes', () => {
  let cluster: Cluster;
  let sql: pg.Client;
  beforeAll(async () => {
    cluster = await startCluster(3);
    sql = new pg.Client({ connectionString: cluster.databaseUrl });
    await sql.connect();
  }, 90_000);
  afterAll(async () => {
    await sql?.end();
    await cluster?.stop();
  });

  it('leaves every session equal to its user’s GET /api/metrics, with no seq gaps', async () => {
    const instances = cluster.instances as Instance[];
    const rand = prng(20261125);
    const on = () => rand.pick(instances);
    const admin = await signIn(instances[0]!.base, ADMIN.username, ADMIN.password);
    const people: { name: string; id: number; role: 'manager' | 'user'; token: string }[] = [];
    for (const [name, role] of [
      ['mia', 'manager'],
      ['max', 'manager'],
      ['ava', 'user'],
      ['leo', 'user'],
      ['zoe', 'user'],
    ] as const) {
      const created = await api(instances[0]!.base, admin, 'POST', '/api/users', {
        username: name,
        password: PW,
        role,
      });
      people.push({ name, id: created.body.id, role, token: await signIn(instances[0]!.base, name, PW) });
    }
    const managers = people.filter((p) => p.role === 'manager');
    const users = people.filter((p) => p.role === 'user');
    const projectIds: number[] = [];
    for (const m of managers) {
      for (let i = 0; i < 2; i++) {
        projectIds.push(
          (await api(on().base, m.token, 'POST', '/api/projects', { name: `${m.name} ${i}` })).body.id,
        );
      }
    }

    // Sessions: every user on a random instance, some on two, the admin on all three.
    const sessions: { token: string; client: LiveClient }[] = [];
    for (const p of people) {
      sessions.push({ token: p.token, client: await new LiveClient(on().wsBase, p.token).connect() });
      if (rand.next() < 0.6)
        sessions.push({ token: p.token, client: await new LiveClient(on().wsBase, p.token).connect() });
    }
    for (const inst of instances)
      sessions.push({ token: admin, client: await new LiveClient(inst.wsBase, admin).connect() });

    const taskIds: number[] = [];
    const writes = 200;
    for (let i = 0; i < writes; i++) {
      const roll = rand.next();
      const assignee = rand.pick(users);
      if (roll < 0.3 || taskIds.length < 5) {
        const project = rand.pick(projectIds);
        const owner = managers[Math.floor(projectIds.indexOf(project) / 2)]!;
        const res = await api(on().base, rand.next() < 0.5 ? owner.token : admin, 'POST', '/api/tasks', {
          project_id: project,
          title: `Task ${i}`,
          assignee_id: assignee.id,
          status: rand.pick(STATUSES),
          due_date: rand.next() < 0.5 ? '2000-01-01' : '2099-01-01',
        });
        if (res.status === 201) taskIds.push(res.body.id);
      } else if (roll < 0.5) {
        await api(on().base, admin, 'PATCH', `/api/tasks/${rand.pick(taskIds)}`, {
          status: rand.pick(STATUSES),
        });
      } else if (roll < 0.6) {
        await api(on().base, admin, 'PATCH', `/api/tasks/${rand.pick(taskIds)}`, {
          assignee_id: rand.next() < 0.2 ? null : rand.pick(users).id,
          project_id: rand.pick(projectIds),
        });
      } else if (roll < 0.68) {
        const id = taskIds.splice(Math.floor(rand.next() * taskIds.length), 1)[0]!;
        await api(on().base, admin, 'DELETE', `/api/tasks/${id}`);
      } else if (roll < 0.85) {
        // From outside the portal: psql, an ETL job.
        await sql.query('update tasks set status = $1 where id = $2', [
          rand.pick(STATUSES),
          rand.pick(taskIds),
        ]);
      } else if (roll < 0.93) {
        await sql.query(`update tasks set status = $1 where project_id = $2`, [
          rand.pick(STATUSES),
          rand.pick(projectIds),
        ]);
      } else {
        await sql.query(
          `insert into tasks (project_id, title, assignee_id, status) values ($1, 'From SQL', $2, $3)`,
          [rand.pick(projectIds), assignee.id, rand.pick(STATUSES)],
        );
      }
      if (rand.next() < 0.2) await new Promise((r) => setTimeout(r, rand.int(0, 30)));
    }

    // Once writes settle, every session converges to the truth.
    const truth = new Map<string, unknown>();
    for (const s of sessions) {
      if (!truth.has(s.token))
        truth.set(s.token, (await api(instances[0]!.base, s.token, 'GET', '/api/metrics')).body);
    }
    for (const s of sessions) {
      await s.client.waitFor(
        () => JSON.stringify(s.client.doc) === JSON.stringify(truth.get(s.token)),
        15_000,
      );
      expect(s.client.doc).toEqual(truth.get(s.token));
      expect(s.client.gaps).toEqual([]);
    }
    // All sessions of one user are at the same version.
    for (const token of truth.keys()) {
      const seqs = new Set(sessions.filter((s) => s.token === token).map((s) => s.client.seq));
      expect(seqs.size).toBe(1);
    }
    for (const s of sessions) s.client.close();
  }, 120_000);
});
