import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { apply, type Json } from '../../src/realtime/merge-patch.ts';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { api, LiveClient, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';

/** docs/contract.md §6 over two real instances sharing PostgreSQL and Redis. */
describe('realtime protocol across instances', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  let admin: string;
  let project: number;
  const people: Record<string, { id: number; token: string }> = {};
  const open: LiveClient[] = [];
  const live = async (instance: Instance, token: string, resume?: { sessionId: string; lastSeq: number }) => {
    const c = await new LiveClient(instance.wsBase, token).connect(resume);
    open.push(c);
    return c;
  };
  const task = (assignee: string, title = 'Work') =>
    api(a.base, admin, 'POST', '/api/tasks', {
      project_id: project,
      title,
      assignee_id: people[assignee]!.id,
    });

  beforeAll(async () => {
    cluster = await startCluster(2, { sessionTtlSeconds: 2 });
    [a, b] = cluster.instances as [Instance, Instance];
    admin = await signIn(a.base, ADMIN.username, ADMIN.password);
    for (const [name, role] of [
      ['ann', 'user'],
      ['bob', 'user'],
      ['cat', 'user'],
      ['dan', 'user'],
      ['eve', 'user'],
    ] as const) {
      const created = await api(a.base, admin, 'POST', '/api/users', { username: name, password: PW, role });
      people[name] = { id: created.body.id, token: await signIn(a.base, name, PW) };
    }
    project = (await api(a.base, admin, 'POST', '/api/projects', { name: 'Realtime' })).body.id;
  }, 90_000);
  afterAll(async () => {
    for (const c of open) c.close();
    await cluster?.stop();
  });

  it('starts every session with hello then a snapshot of its own document', async () => {
    const c = await live(a, people.ann!.token);
    await c.waitFor(() => c.frames.length >= 2);
    expect(c.frames[0]).toMatchObject({ type: 'hello', resumed: false, heartbeat_ms: 2000 });
    expect(c.frames[1]).toMatchObject({ type: 'snapshot', seq: expect.any(Number) });
    expect(c.doc).toEqual((await api(a.base, people.ann!.token, 'GET', '/api/metrics')).body);
  });

  it('delivers every delta to every tab and device of a user, and nothing to others', async () => {
    const tabs = [
      await live(a, people.bob!.token),
      await live(a, people.bob!.token),
      await live(b, people.bob!.token),
    ];
    const bystander = await live(b, people.cat!.token);
    for (const t of tabs) await t.waitFor(() => t.seq > 0);
    await bystander.waitFor(() => bystander.seq > 0);
    await task('bob', 'First');
    await task('bob', 'Second');
    for (const t of tabs) await t.waitFor(() => (t.doc as any).my_tasks.todo === 2);
    const expected = (await api(b.base, people.bob!.token, 'GET', '/api/metrics')).body;
    for (const t of tabs) {
      expect(t.doc).toEqual(expected);
      expect(t.gaps).toEqual([]);
      expect(t.seq).toBe(tabs[0]!.seq);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(bystander.frames.map((f) => f.type)).toEqual(['hello', 'snapshot']);
    // Isolation: nothing bob received describes another user.
    for (const f of tabs[2]!.frames) if (f.type === 'snapshot') expect((f.data as any).role).toBe('user');
  });

  it('resumes on another instance with exactly the missed deltas', async () => {
    const first = await live(a, people.dan!.token);
    await first.waitFor(() => first.seq > 0);
    const { sessionId, seq } = { sessionId: first.sessionId!, seq: first.seq };
    first.close();
    // Spaced apart so they are two batches (changes within the coalescing window make one delta).
    await task('dan', 'Missed 1');
    await new Promise((r) => setTimeout(r, 300));
    await task('dan', 'Missed 2');
    await new Promise((r) => setTimeout(r, 300));
    const again = await live(b, people.dan!.token, { sessionId, lastSeq: seq });
    await again.waitFor(() => again.frames.filter((f) => f.type === 'delta').length >= 2);
    expect(again.frames[0]).toMatchObject({ type: 'hello', session_id: sessionId, resumed: true });
    const deltas = again.frames.filter((f) => f.type === 'delta');
    expect(again.frames.some((f) => f.type === 'snapshot')).toBe(false);
    expect(deltas.map((f) => f.seq)).toEqual([seq + 1, seq + 2]);
    // The first session's document plus the replay is the current document.
    let doc = first.doc as Json;
    for (const d of deltas) doc = apply(doc, d.patch!);
    expect(doc).toEqual((await api(b.base, people.dan!.token, 'GET', '/api/metrics')).body);
  });

  it('gives an expired session a new id, resumed:false and a snapshot', async () => {
    const first = await live(a, people.eve!.token);
    await first.waitFor(() => first.seq > 0);
    const sessionId = first.sessionId!;
    first.close();
    await new Promise((r) => setTimeout(r, 3500)); // SESSION_TTL_SECONDS=2
    const again = await live(b, people.eve!.token, { sessionId, lastSeq: first.seq });
    await again.waitFor(() => again.frames.length >= 2);
    expect(again.frames[0]).toMatchObject({ type: 'hello', resumed: false });
    expect(again.nth(0, 'hello').session_id).not.toBe(sessionId);
    expect(again.frames[1]!.type).toBe('snapshot');
  });

  it("never resumes someone else's session", async () => {
    const anns = await live(a, people.ann!.token);
    await anns.waitFor(() => anns.seq > 0);
    const thief = await live(b, people.bob!.token, { sessionId: anns.sessionId!, lastSeq: 0 });
    await thief.waitFor(() => thief.frames.length >= 2);
    expect(thief.frames[0]).toMatchObject({ type: 'hello', resumed: false });
    expect(thief.nth(0, 'hello').session_id).not.toBe(anns.sessionId);
    expect(thief.doc).toEqual((await api(b.base, people.bob!.token, 'GET', '/api/metrics')).body);
  });

  it('closes unauthenticated upgrades with 4401 and cookie upgrades from a foreign Origin with 4403', async () => {
    const closeCode = (url: string, headers: Record<string, string>) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('close', (code) => resolve(code));
        ws.on('error', () => {});
      });
    expect(await closeCode(`${a.wsBase}/ws`, {})).toBe(4401);
    const form = await fetch(`${a.base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: a.base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'cat', password: PW }),
    });
    const cookie = /portal_session=[^;]+/.exec(form.headers.get('set-cookie') ?? '')![0];
    expect(await closeCode(`${a.wsBase}/ws`, { cookie, origin: 'http://evil.example' })).toBe(4403);
    const ws = new WebSocket(`${a.wsBase}/ws`, { headers: { cookie, origin: a.base } });
    const first = await new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
    expect(JSON.parse(first).type).toBe('hello');
    ws.close();
  });

  it('logout closes that sign-in’s sockets on every instance, and only those', async () => {
    const signedOut = await signIn(a.base, 'cat', PW);
    const stays = await signIn(a.base, 'cat', PW);
    const s1 = await live(a, signedOut);
    const s2 = await live(b, signedOut);
    const other = await live(b, stays);
    for (const c of [s1, s2, other]) await c.waitFor(() => c.seq > 0);
    expect((await api(b.base, signedOut, 'POST', '/api/auth/logout')).status).toBe(204);
    await s1.waitFor(() => s1.closeCode !== undefined);
    await s2.waitFor(() => s2.closeCode !== undefined);
    expect([s1.closeCode, s2.closeCode]).toEqual([4401, 4401]);
    await new Promise((r) => setTimeout(r, 200));
    expect(other.closeCode).toBeUndefined();
  });

  it('deactivation closes the user’s sockets everywhere; a role change re-scopes with a snapshot', async () => {
    const created = await api(a.base, admin, 'POST', '/api/users', {
      username: 'fay',
      password: PW,
      role: 'user',
    });
    const fay = await signIn(a.base, 'fay', PW);
    const onA = await live(a, fay);
    const onB = await live(b, fay);
    for (const c of [onA, onB]) await c.waitFor(() => c.seq > 0);
    await api(a.base, admin, 'PATCH', `/api/users/${created.body.id}`, { role: 'manager' });
    for (const c of [onA, onB]) await c.waitFor(() => (c.doc as any).role === 'manager');
    expect(onB.frames.at(-1)!.type).toBe('snapshot');
    expect((onB.doc as any).team_tasks).toBeDefined();
    await api(b.base, admin, 'PATCH', `/api/users/${created.body.id}`, { active: false });
    for (const c of [onA, onB]) await c.waitFor(() => c.closeCode !== undefined);
    expect([onA.closeCode, onB.closeCode]).toEqual([4401, 4401]);
  });

  it('closes a socket that sends more than 64 KB, and keeps serving', async () => {
    const c = await live(a, people.ann!.token);
    await c.waitFor(() => c.seq > 0);
    c.ws.send('x'.repeat(70 * 1024));
    await c.waitFor(() => c.closeCode !== undefined);
    expect(c.closeCode).toBe(1009);
    expect((await fetch(`${a.base}/healthz`)).status).toBe(200);
  });
});
