import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../src/db/seed/organisation.ts';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { api, LiveClient, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';
const STATUSES = ['todo', 'in_progress', 'blocked', 'done'] as const;

/**
 * Deno as a first-class runtime (docs/decisions/0020-deno-first-class-runtime.md): portal
 * processes started with `deno task start`'s command line (deno.json: Deno.serve, hono/deno
 * WebSocket upgrades, the README's permissions) serve the API, the pages and realtime, and share
 * one PostgreSQL and one Redis with Node processes: sessions on either runtime converge, and a
 * session drained from a Deno process resumes on a Node one.
 */
describe('Deno and Node instances in one cluster', () => {
  let cluster: Cluster;
  let deno: Instance;
  let node: Instance;
  const clients: LiveClient[] = [];
  const track = (c: LiveClient) => {
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    cluster = await startCluster(2, { runtimes: ['deno', 'node'], heartbeatMs: 1000 });
    [deno, node] = cluster.instances as [Instance, Instance];
  }, 90_000);
  afterAll(async () => {
    for (const c of clients) c.ws?.terminate();
    await cluster?.stop();
  });

  it('serves the API and pages under Deno, with 4xx JSON for bad input', async () => {
    expect(deno.runtime).toBe('deno');
    expect(deno.output()).not.toMatch(/sloppy|NotCapable|Requires .* access/i);
    expect((await fetch(`${deno.base}/healthz`)).status).toBe(200);
    const login = await fetch(`${deno.base}/login`);
    expect(login.status).toBe(200);
    expect(login.headers.get('content-type')).toMatch(/^text\/html/);
    expect(login.headers.get('content-security-policy')).toContain("script-src 'self'");
    await login.text();
    const metrics = await fetch(`${deno.metricsBase}/metrics`);
    expect(await metrics.text()).toContain('portal_');
    expect((await fetch(`${deno.base}/metrics`)).status).toBe(404); // never on the public port

    const wrong = await fetch(`${deno.base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"username":',
    });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toHaveProperty('error');
    // A malformed WebSocket handshake (no Sec-WebSocket-Key) is the client's mistake: 400, not 500.
    const handshake = await new Promise<number>((resolve, reject) =>
      http
        .get(`${deno.base}/ws`, { headers: { upgrade: 'websocket', connection: 'Upgrade' } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
        .on('error', reject),
    );
    expect(handshake).toBe(400);
    const admin = await signIn(deno.base, ADMIN.username, ADMIN.password);
    const created = await api(deno.base, admin, 'POST', '/api/users', {
      username: 'dina',
      password: PW,
      role: 'user',
    });
    expect(created.status).toBe(201);
    // Signed in on Deno, used on Node: one secret, one sessions table.
    expect((await api(node.base, admin, 'GET', `/api/users/${created.body.id}`)).body.username).toBe('dina');
  });

  it('holds sessions under Deno: 1009 for a frame over 64 KB, silent peers dropped, drain and resume on Node', async () => {
    const token = await signIn(deno.base, ADMIN.username, ADMIN.password);
    const big = track(await new LiveClient(deno.wsBase, token).connect());
    big.ws.send('x'.repeat(70 * 1024));
    await big.waitFor(() => big.closeCode !== undefined, 10_000);
    expect(big.closeCode).toBe(1009);

    // No pong from this one: Deno's idleTimeout (two heartbeats) ends it; the others live on.
    const silent = track(await new LiveClient(deno.wsBase, token, { autoPong: false }).connect());
    const alive = track(await new LiveClient(deno.wsBase, token).connect());
    await alive.waitFor(() => alive.seq > 0);
    await silent.waitFor(() => silent.closeCode !== undefined, 15_000);
    expect(alive.closeCode).toBeUndefined();

    // SIGTERM drains the Deno process: 4000, and the session resumes on the Node one.
    const spare = await cluster.add('deno');
    const leaving = track(await new LiveClient(spare.wsBase, token).connect());
    await leaving.waitFor(() => leaving.seq > 0);
    await spare.stop('SIGTERM');
    await leaving.waitFor(() => leaving.closeCode !== undefined, 10_000);
    expect(leaving.closeCode).toBe(4000);
    const resumed = track(
      await new LiveClient(node.wsBase, token).connect({
        sessionId: leaving.sessionId!,
        lastSeq: leaving.seq,
      }),
    );
    expect(resumed.frames[0]).toMatchObject({ type: 'hello', resumed: true, session_id: leaving.sessionId });
    expect(spare.child.exitCode).toBe(0);
  });

  it('converges: random writes through both runtimes reach every session on both as GET /api/metrics', async () => {
    const rand = prng(20261203);
    const instances = [deno, node];
    const on = () => rand.pick(instances);
    const admin = await signIn(node.base, ADMIN.username, ADMIN.password);
    const make = async (username: string, role: 'manager' | 'user') => {
      const res = await api(on().base, admin, 'POST', '/api/users', { username, password: PW, role });
      expect(res.status).toBe(201);
      return { id: res.body.id as number, token: await signIn(on().base, username, PW) };
    };
    const manager = await make('mira', 'manager');
    const people = [manager, await make('uma', 'user'), await make('ulf', 'user')];
    const projects: number[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await api(on().base, admin, 'POST', '/api/projects', {
        name: `Mixed ${i}`,
        owner_id: manager.id,
      });
      projects.push(res.body.id);
    }
    // Every person watches from both runtimes; the admin too.
    const sessions: { token: string; client: LiveClient }[] = [];
    for (const person of [{ id: 0, token: admin }, ...people]) {
      for (const inst of instances) {
        const client = track(await new LiveClient(inst.wsBase, person.token).connect());
        await client.waitFor(() => client.seq > 0);
        sessions.push({ token: person.token, client });
      }
    }
    const tasks: number[] = [];
    for (let i = 0; i < 60; i++) {
      const roll = rand.next();
      const actor = rand.next() < 0.5 ? admin : manager.token;
      if (roll < 0.4 || tasks.length === 0) {
        const res = await api(on().base, actor, 'POST', '/api/tasks', {
          project_id: rand.pick(projects),
          title: `Mixed task ${i}`,
          assignee_id: rand.pick(people).id,
          status: rand.pick(STATUSES),
        });
        expect(res.status).toBe(201);
        tasks.push(res.body.id);
      } else if (roll < 0.85) {
        const id = rand.pick(tasks);
        const res = await api(on().base, actor, 'PATCH', `/api/tasks/${id}`, {
          status: rand.pick(STATUSES),
          assignee_id: rand.pick(people).id,
        });
        expect(res.status).toBe(200);
      } else {
        const id = tasks.splice(Math.floor(rand.next() * tasks.length), 1)[0]!;
        expect((await api(on().base, actor, 'DELETE', `/api/tasks/${id}`)).status).toBe(204);
      }
    }
    for (const { token, client } of sessions) {
      const truth = JSON.stringify((await api(on().base, token, 'GET', '/api/metrics')).body);
      await client.waitFor(() => JSON.stringify(client.doc) === truth, 20_000);
      expect(client.gaps).toEqual([]);
      expect(client.closeCode).toBeUndefined();
    }
    // Both sessions of one user are at one version, whichever runtime serves them.
    for (let k = 0; k < sessions.length; k += 2)
      expect(sessions[k]!.client.seq).toBe(sessions[k + 1]!.client.seq);
  });
});
