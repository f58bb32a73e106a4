import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Instance, useCluster } from '../support/cluster.ts';
import { api, LiveClient, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';

/** One sample of a Prometheus text exposition (`name{labels} value`), summed over matching series. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-z_:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (!Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) continue;
    total += Number(match[3]);
    found = true;
  }
  if (!found) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return total;
}

const scrape = async (inst: Instance) => {
  const res = await fetch(`${inst.metricsBase}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return res.text();
};

/**
 * What an operator watches (issue 5): /metrics (on each instance's internal METRICS_PORT) on two
 * real instances behind one PostgreSQL and one Redis, and /healthz, /readyz. Numbers must move
 * with what really happened.
 */
describe('operator endpoints on real instances', () => {
  // Two instances, the admin signed in on the first; sockets in `sockets` are closed after (useCluster).
  const on = useCluster(2);
  const sockets: LiveClient[] = on.sockets as LiveClient[];
  let a: Instance;
  let b: Instance;
  let admin: string;
  beforeAll(() => {
    [a, b] = on.cluster.instances as [Instance, Instance];
    admin = on.admin;
  });

  it('serves Prometheus text on the internal metrics port only, never on the public port', async () => {
    for (const inst of [a, b]) {
      expect(inst.metricsBase).not.toBe(inst.base);
      const internal = await fetch(`${inst.metricsBase}/metrics`);
      expect(internal.status).toBe(200);
      expect(await internal.text()).toContain('portal_http_request_duration_seconds');
      // What the public proxy reaches: the portal's ordinary 404, and nothing of the exposition.
      const exposed = await fetch(`${inst.base}/metrics`);
      expect(exposed.status).toBe(404);
      expect(await exposed.text()).not.toContain('portal_');
    }
  });

  it('answers /healthz and /readyz with the state of the database and Redis', async () => {
    expect(await (await fetch(`${a.base}/healthz`)).json()).toEqual({ ok: true });
    // Asked as a load balancer does, until it says ready: a check slower than its 2 s limit on a
    // loaded machine right after the start is a (correct) 503 "not yet".
    let ready = await fetch(`${b.base}/readyz`);
    for (let tries = 0; ready.status === 503 && tries < 10; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      ready = await fetch(`${b.base}/readyz`);
    }
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true, checks: { database: 'ok', redis: 'ok' } });
  });

  it('counts HTTP requests by route pattern and status, never by raw path', async () => {
    const project = await api(a.base, admin, 'POST', '/api/projects', { name: 'Observed' });
    for (const id of [project.body.id, 999_999]) await api(a.base, admin, 'GET', `/api/projects/${id}`);
    const text = await scrape(a);
    const route = { method: 'GET', route: '/api/projects/:id' };
    expect(sample(text, 'portal_http_request_duration_seconds_count', { ...route, status: '200' })).toBe(1);
    expect(sample(text, 'portal_http_request_duration_seconds_count', { ...route, status: '404' })).toBe(1);
    expect(text).not.toContain('/api/projects/999999');
    // Nothing secret reaches the exposition.
    expect(text).not.toContain(ADMIN.password);
    expect(text).not.toContain(admin);
  });

  it('reports exactly one leader, live sessions, and deltas published, delivered and timed', async () => {
    const leaders = await Promise.all(
      [a, b].map(async (i) => sample(await scrape(i), 'portal_realtime_leader')),
    );
    expect([...leaders].sort()).toEqual([0, 1]);
    const leader = leaders[0] === 1 ? a : b;

    const created = await api(a.base, admin, 'POST', '/api/users', {
      username: 'olga',
      password: PW,
      role: 'user',
    });
    const olga = await signIn(b.base, 'olga', PW);
    const before = sample(await scrape(b), 'portal_realtime_sessions');
    for (let i = 0; i < 3; i++) {
      const s = await new LiveClient(b.wsBase, olga).connect();
      await s.waitFor(() => s.frames.length >= 2);
      sockets.push(s);
    }
    expect(sample(await scrape(b), 'portal_realtime_sessions')).toBe(before + 3);
    const deliveredBefore = sample(await scrape(b), 'portal_realtime_frames_delivered_total');

    const project = await api(a.base, admin, 'POST', '/api/projects', { name: 'Live' });
    await api(a.base, admin, 'POST', '/api/tasks', {
      project_id: project.body.id,
      title: 'Count me',
      assignee_id: created.body.id,
    });
    for (const s of sockets) await s.waitFor(() => s.deltas().length === 1);

    const text = await scrape(b);
    expect(sample(text, 'portal_realtime_frames_delivered_total')).toBe(deliveredBefore + 3);
    // One delta reached this instance for olga: its latency was observed once, and was plausible.
    expect(sample(text, 'portal_realtime_commit_to_delivery_seconds_count')).toBeGreaterThanOrEqual(1);
    const slow = sample(text, 'portal_realtime_commit_to_delivery_seconds_bucket', { le: '+Inf' });
    const fast = sample(text, 'portal_realtime_commit_to_delivery_seconds_bucket', { le: '5' });
    expect(fast).toBe(slow);
    // The frame carries when its change was made (what the histogram measures from).
    expect(typeof (sockets[0]!.deltas()[0] as { at?: unknown }).at).toBe('number');

    const leaderText = await scrape(leader);
    expect(
      sample(leaderText, 'portal_realtime_frames_published_total', { kind: 'delta' }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(leaderText, 'portal_realtime_batch_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(sample(leaderText, 'portal_realtime_change_log_lag_seconds')).toBeLessThan(5);
  });
});
