import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { realtimeKeys } from '../../src/realtime/keys.ts';
import { apply, type Json } from '../../src/realtime/merge-patch.ts';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { REDIS_URL } from '../support/env.ts';
import { api, type Frame, LiveClient, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';
const TTL_SECONDS = 2;

type Doc = {
  role: string;
  my_tasks: Record<string, number>;
  team_tasks?: Record<string, number>;
  org_tasks?: Record<string, number>;
  projects?: Record<string, { name: string; done: number; total: number }>;
  users_by_role?: Record<string, number>;
};

const total = (counts: Record<string, number> | undefined) =>
  Object.values(counts ?? {}).reduce((a, b) => a + b, 0);

/** The document a client held after each snapshot or delta it received, in order. */
function states(frames: Frame[]): Doc[] {
  const out: Doc[] = [];
  let doc: Json = {};
  for (const f of frames) {
    if (f.type === 'snapshot') doc = f.data!;
    else if (f.type === 'delta') doc = apply(doc, f.patch!);
    else continue;
    out.push(doc as Doc);
  }
  return out;
}

const types = (c: LiveClient) => c.frames.map((f) => f.type);

/** Opens a socket and resolves with the code the server closes it with (it must close it). */
function closeCodeOf(url: string, headers: Record<string, string>) {
  return new Promise<{ code: number; frames: string[] }>((resolve) => {
    const frames: string[] = [];
    const ws = new WebSocket(url, { headers });
    ws.on('message', (d) => frames.push(String(d)));
    ws.on('close', (code) => resolve({ code, frames }));
    ws.on('error', () => {});
  });
}

/**
 * Realtime sessions as a user sees them (docs/contract.md §6), over two real portal processes sharing one
 * PostgreSQL database and one Redis: isolation between users, tabs and devices, resume on another
 * instance, expiry, hijack attempts, authentication and Origin, sign-out, deactivation, role
 * changes and oversized frames.
 */
describe('realtime sessions across two instances', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  let admin: string;
  let project: number;
  let redis: Redis;
  const open: LiveClient[] = [];

  const live = async (inst: Instance, token: string, resume?: { sessionId: string; lastSeq: number }) => {
    const c = await new LiveClient(inst.wsBase, token).connect(resume);
    open.push(c);
    // A new session starts with hello and a snapshot; a resumed one may have nothing to replay.
    if (c.frames[0]?.type === 'hello' && !c.frames[0].resumed)
      await c.waitFor(() => c.closeCode !== undefined || c.frames.length >= 2);
    return c;
  };
  const person = async (name: string, role: 'user' | 'manager' = 'user') => {
    const created = await api(a.base, admin, 'POST', '/api/users', { username: name, password: PW, role });
    expect(created.status).toBe(201);
    return { id: created.body.id as number, token: await signIn(b.base, name, PW) };
  };
  const task = async (assignee: number, fields: Record<string, unknown> = {}, inst = a) => {
    const res = await api(inst.base, admin, 'POST', '/api/tasks', {
      project_id: project,
      title: 'Work',
      assignee_id: assignee,
      ...fields,
    });
    expect(res.status).toBe(201);
    return res.body.id as number;
  };
  const metrics = async (token: string, inst = a) =>
    (await api(inst.base, token, 'GET', '/api/metrics')).body;
  const matches = (c: LiveClient, truth: unknown) => JSON.stringify(c.doc) === JSON.stringify(truth);

  beforeAll(async () => {
    cluster = await startCluster(2, { sessionTtlSeconds: TTL_SECONDS });
    [a, b] = cluster.instances as [Instance, Instance];
    admin = await signIn(a.base, ADMIN.username, ADMIN.password);
    project = (await api(a.base, admin, 'POST', '/api/projects', { name: 'Sessions' })).body.id;
    redis = new Redis(REDIS_URL);
  }, 60_000);
  afterAll(async () => {
    for (const c of open) c.ws?.terminate();
    redis?.disconnect();
    await cluster?.stop();
  });

  it('never shows a user another user’s document; an unaffected user gets no frame at all', async () => {
    const ivy = await person('ivy');
    const jon = await person('jon');
    const melToken = (await person('mel', 'manager')).token;
    const own = (await api(a.base, melToken, 'POST', '/api/projects', { name: 'Mel’s' })).body.id as number;
    const ivyTasks: number[] = [];
    for (let i = 0; i < 2; i++) ivyTasks.push(await task(ivy.id, { project_id: own }));
    for (let i = 0; i < 3; i++) await task(jon.id, { project_id: own, status: 'blocked' });

    const ivyS = await live(a, ivy.token);
    const jonS = await live(b, jon.token);
    const melS = await live(a, melToken);
    const adminS = await live(b, admin);
    const orgBefore = total((adminS.doc as Doc).org_tasks);

    // Ivy moves her own tasks along, one change at a time.
    const moves = ['in_progress', 'done', 'blocked', 'todo', 'done', 'in_progress'];
    for (const [i, status] of moves.entries()) {
      const id = ivyTasks[i % 2]!;
      const res = await api(i % 2 ? b.base : a.base, ivy.token, 'PATCH', `/api/tasks/${id}`, { status });
      expect(res.status).toBe(200);
      await ivyS.waitFor(() => ivyS.deltas().length === i + 1);
    }
    // Then one change of Jon's: everything published before it has reached every socket by now.
    await task(jon.id, { project_id: own }, b);
    await jonS.waitFor(() => jonS.deltas().length === 1);
    await melS.waitFor(() => total((melS.doc as Doc).team_tasks) === 6);
    await adminS.waitFor(() => total((adminS.doc as Doc).org_tasks) === orgBefore + 1);

    // Jon saw none of Ivy's changes: one delta, his own new task and nothing else.
    expect(types(jonS)).toEqual(['hello', 'snapshot', 'delta']);
    // (Plus the notification of it: someone else assigned him the task.)
    const { notifications: jonNotice, ...jonPatch } = jonS.deltas()[0]!.patch as Record<string, Json>;
    expect(jonPatch).toEqual({ my_tasks: { todo: 1 } });
    expect(JSON.stringify(jonNotice)).toMatch(/"unread":\d+,.*assigned you “Work”/);
    expect(jonS.deltas()[0]!.seq).toBe(jonS.nth(1, 'snapshot').seq + 1);
    // Every version each of them held is their own: role and their own numbers.
    for (const s of states(ivyS.frames)) {
      expect(s.role).toBe('user');
      expect(total(s.my_tasks)).toBe(2);
      expect(s.team_tasks ?? s.projects ?? s.org_tasks ?? s.users_by_role).toBeUndefined();
    }
    expect(states(jonS.frames).map((s) => [s.role, total(s.my_tasks), s.my_tasks.blocked])).toEqual([
      ['user', 3, 3],
      ['user', 4, 3],
    ]);
    for (const s of states(melS.frames)) {
      expect(s.role).toBe('manager');
      expect(total(s.my_tasks)).toBe(0);
      expect(Object.keys(s.projects!)).toEqual([String(own)]);
      expect(s.org_tasks ?? s.users_by_role).toBeUndefined();
    }
    for (const s of states(adminS.frames)) expect(s.role).toBe('admin');
    expect(ivyS.deltas().map((d) => d.seq)).toEqual(moves.map((_, i) => ivyS.nth(1, 'snapshot').seq + i + 1));
    for (const [c, token] of [
      [ivyS, ivy.token],
      [jonS, jon.token],
      [melS, melToken],
      [adminS, admin],
    ] as const) {
      expect(c.doc).toEqual(await metrics(token));
      expect(c.gaps).toEqual([]);
    }
  });

  it('gives every tab and device of a user every delta, at the same seq', async () => {
    const kim = await person('kim');
    const phone = await signIn(b.base, 'kim', PW); // a second device: its own sign-in
    const bystander = await person('lou');
    const tabs = [await live(a, kim.token), await live(a, kim.token), await live(b, phone)];
    const lou = await live(a, bystander.token);
    expect(new Set(tabs.map((t) => t.sessionId)).size).toBe(3);
    expect(new Set(tabs.map((t) => t.seq)).size).toBe(1);

    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(await task(kim.id, {}, i % 2 ? b : a));
    await api(b.base, admin, 'PATCH', `/api/tasks/${ids[0]}`, { status: 'done' });
    await api(a.base, kim.token, 'PATCH', `/api/tasks/${ids[1]}`, { status: 'blocked' });
    await api(b.base, admin, 'DELETE', `/api/tasks/${ids[2]}`);
    const truth = await metrics(kim.token, b);
    expect((truth as Doc).my_tasks).toMatchObject({ todo: 0, done: 1, blocked: 1 });
    for (const t of tabs) await t.waitFor(() => matches(t, truth));

    const deltas = tabs[0]!.deltas();
    expect(deltas.length).toBeGreaterThan(0);
    for (const t of tabs) {
      expect(t.doc).toEqual(truth);
      expect(t.gaps).toEqual([]);
      expect(t.seq).toBe(tabs[0]!.seq);
      expect(t.deltas()).toEqual(deltas);
    }
    // The bystander's change comes through; nothing of Kim's ever reached Lou.
    await task(bystander.id);
    await lou.waitFor(() => lou.deltas().length === 1);
    expect(types(lou)).toEqual(['hello', 'snapshot', 'delta']);
  });

  it('resumes on the other instance with exactly the missed deltas, then carries on live', async () => {
    const max = await person('max');
    const witness = await live(b, max.token); // another tab: shows when each change is published
    const first = await live(a, max.token);
    const { sessionId, seq } = { sessionId: first.sessionId!, seq: first.seq };
    first.close();
    await first.waitFor(() => first.closeCode !== undefined);
    for (let i = 1; i <= 3; i++) {
      await task(max.id, { status: i === 2 ? 'done' : 'todo' }, i % 2 ? b : a);
      await witness.waitFor(() => witness.seq === seq + i);
    }

    const again = new LiveClient(b.wsBase, max.token);
    open.push(again);
    again.doc = first.doc;
    again.seq = first.seq;
    await again.connect({ sessionId, lastSeq: seq });
    await again.waitFor(() => again.seq === seq + 3);
    expect(again.frames[0]).toMatchObject({ type: 'hello', session_id: sessionId, resumed: true });
    expect(types(again)).toEqual(['hello', 'delta', 'delta', 'delta']);
    expect(again.deltas().map((d) => d.seq)).toEqual([seq + 1, seq + 2, seq + 3]);
    expect(again.deltas()).toEqual(witness.deltas());
    expect(again.gaps).toEqual([]);
    expect(again.doc).toEqual(await metrics(max.token));

    await task(max.id, {}, a);
    await again.waitFor(() => again.seq === seq + 4);
    expect(again.gaps).toEqual([]);
    expect(again.doc).toEqual(await metrics(max.token, b));
    expect(witness.doc).toEqual(again.doc);
  });

  it('answers an expired session with a new session and a snapshot of the current document', async () => {
    const nia = await person('nia');
    const adminS = await live(a, admin); // the admin is told about every change
    const first = await live(a, nia.token);
    const { sessionId, seq } = { sessionId: first.sessionId!, seq: first.seq };
    first.close();
    await first.waitFor(() => first.closeCode !== undefined);
    // Past the session TTL, and past the time the leader keeps maintaining the document.
    const watched = realtimeKeys(cluster.prefix).watched;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const until = await redis.zscore(watched, String(nia.id));
      if (until === null || Number(until) < Date.now() - 200) break;
      if (Date.now() > deadline) throw new Error('the session never expired');
      await new Promise((r) => setTimeout(r, 100));
    }
    // A change while nobody watches Nia: the leader has published it once the admin has it.
    const org = total((adminS.doc as Doc).org_tasks);
    await task(nia.id, { status: 'in_progress' }, b);
    await adminS.waitFor(() => total((adminS.doc as Doc).org_tasks) === org + 1);

    const again = await live(b, nia.token, { sessionId, lastSeq: seq });
    expect(types(again)).toEqual(['hello', 'snapshot']);
    expect(again.frames[0]).toMatchObject({ resumed: false });
    expect(again.nth(0, 'hello').session_id).not.toBe(sessionId);
    // What the user sees is today's document, with the change made while they were away.
    expect((again.doc as Doc).my_tasks.in_progress).toBe(1);
    expect(again.doc).toEqual(await metrics(nia.token));
    // And it stays live.
    await task(nia.id, {}, a);
    await again.waitFor(() => (again.doc as Doc).my_tasks.todo === 1);
    expect(again.doc).toEqual(await metrics(nia.token));
    expect(again.gaps).toEqual([]);
  });

  it('keeps a connected session resumable and its user watched long past the TTL', async () => {
    const quinn = await person('quinn');
    const tab = await live(a, quinn.token);
    const watched = realtimeKeys(cluster.prefix).watched;
    // Live TTL here: 2 s + 3 heartbeats of 2 s = 8 s; hold the socket well past it.
    await new Promise((r) => setTimeout(r, 11_000));
    expect(Number(await redis.zscore(watched, String(quinn.id)))).toBeGreaterThan(Date.now());
    // Still watched, so the leader still computes quinn's document: the change arrives live.
    await task(quinn.id, { status: 'blocked' }, b);
    await tab.waitFor(() => (tab.doc as Doc).my_tasks.blocked === 1);
    // And the session outlived its first TTL many times over: a drop resumes it elsewhere.
    tab.close();
    await tab.waitFor(() => tab.closeCode !== undefined);
    const again = await live(b, quinn.token, { sessionId: tab.sessionId!, lastSeq: tab.seq });
    expect(again.frames[0]).toMatchObject({ type: 'hello', resumed: true, session_id: tab.sessionId });
  }, 30_000);

  it('never replays another history: a document lost from Redis (its sessions kept) restarts above the old versions', async () => {
    const roz = await person('roz');
    const first = await live(a, roz.token);
    const work = await task(roz.id);
    for (const status of ['in_progress', 'blocked']) {
      await api(a.base, roz.token, 'PATCH', `/api/tasks/${work}`, { status });
      await first.waitFor(() => (first.doc as Doc).my_tasks[status] === 1);
    }
    const { sessionId, seq } = { sessionId: first.sessionId!, seq: first.seq };
    first.close();
    await first.waitFor(() => first.closeCode !== undefined);
    // Redis evicts the document and its history (memory pressure), not the session.
    const keys = realtimeKeys(cluster.prefix);
    await redis.del(keys.doc(roz.id), keys.history(roz.id));
    expect(await redis.exists(keys.session(sessionId))).toBe(1);
    // Changes go on: the leader starts a new document, then deltas on top of it.
    for (const status of ['done', 'todo', 'in_progress']) {
      await api(b.base, roz.token, 'PATCH', `/api/tasks/${work}`, { status });
      await new Promise((r) => setTimeout(r, 150));
    }
    const truth = await metrics(roz.token);
    const again = await live(b, roz.token, { sessionId, lastSeq: seq });
    expect(again.frames[0]).toMatchObject({ type: 'hello', resumed: true, session_id: sessionId });
    // Not the new history's deltas applied to the old document: a snapshot of the current one.
    await again.waitFor(() => again.frames.length >= 2);
    expect(again.frames[1]!.type).toBe('snapshot');
    expect(again.nth(1, 'snapshot').seq).toBeGreaterThan(seq);
    await again.waitFor(() => JSON.stringify(again.doc) === JSON.stringify(truth));
    expect(again.gaps).toEqual([]);
  });

  it("never resumes another user's session: the intruder gets a new session of their own", async () => {
    const ola = await person('ola');
    const pia = await person('pia');
    await task(ola.id, { status: 'blocked' });
    await task(ola.id, { status: 'blocked' });
    const victim = await live(a, ola.token);
    const intruder = await live(b, pia.token, { sessionId: victim.sessionId!, lastSeq: 0 });
    expect(types(intruder)).toEqual(['hello', 'snapshot']);
    expect(intruder.frames[0]).toMatchObject({ resumed: false });
    expect(intruder.nth(0, 'hello').session_id).not.toBe(victim.sessionId);
    expect((intruder.doc as Doc).my_tasks.blocked).toBe(0);
    expect(intruder.doc).toEqual(await metrics(pia.token));

    // Ola's changes go to Ola only, and her session is still hers to resume.
    await task(ola.id);
    await victim.waitFor(() => (victim.doc as Doc).my_tasks.todo === 1);
    const { sessionId, seq } = { sessionId: victim.sessionId!, seq: victim.seq };
    victim.close();
    await victim.waitFor(() => victim.closeCode !== undefined);
    const back = await live(b, ola.token, { sessionId, lastSeq: seq });
    expect(back.frames[0]).toMatchObject({ type: 'hello', session_id: sessionId, resumed: true });
    await task(pia.id);
    await intruder.waitFor(() => intruder.deltas().length === 1);
    expect(types(intruder)).toEqual(['hello', 'snapshot', 'delta']);
    const { notifications: piaNotice, ...piaPatch } = intruder.deltas()[0]!.patch as Record<string, Json>;
    expect(piaPatch).toEqual({ my_tasks: { todo: 1 } });
    expect(JSON.stringify(piaNotice)).toMatch(/"unread":\d+,.*assigned you “Work”/);
  });

  it('closes unauthenticated upgrades with 4401, before sending anything', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer not-a-token' },
      { cookie: 'portal_session=forged' },
    ];
    for (const headers of attempts) {
      const { code, frames } = await closeCodeOf(`${b.wsBase}/ws`, headers);
      expect(code).toBe(4401);
      expect(frames).toEqual([]);
    }
  });

  it('accepts a cookie upgrade only from the portal’s own Origin (4403 otherwise)', async () => {
    const rex = await person('rex');
    const form = await fetch(`${a.base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: a.base, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'rex', password: PW }),
    });
    expect(form.status).toBe(303);
    const cookie = /portal_session=[^;]+/.exec(form.headers.get('set-cookie') ?? '')![0];
    for (const origin of ['http://evil.example', b.base, 'null']) {
      const { code, frames } = await closeCodeOf(`${a.wsBase}/ws`, { cookie, origin });
      expect(code).toBe(4403);
      expect(frames).toEqual([]);
    }
    expect((await closeCodeOf(`${a.wsBase}/ws`, { cookie })).code).toBe(4403); // no Origin at all

    // The helper always sends a bearer header: an empty one, so that only the cookie counts.
    const browser = new LiveClient(a.wsBase, '', { headers: { cookie, origin: a.base, authorization: '' } });
    open.push(browser);
    await browser.connect();
    await browser.waitFor(() => browser.frames.length >= 2);
    expect(types(browser)).toEqual(['hello', 'snapshot']);
    expect(browser.closeCode).toBeUndefined();
    await task(rex.id);
    await browser.waitFor(() => (browser.doc as Doc).my_tasks.todo === 1);
    expect(browser.doc).toEqual(await metrics(rex.token));
  });

  it('logout closes that sign-in’s sockets on every instance with 4401; another sign-in stays live', async () => {
    const sam = await person('sam');
    const laptop = await signIn(a.base, 'sam', PW);
    const onA = await live(a, laptop);
    const onB = await live(b, laptop);
    const phone = await live(b, sam.token);
    expect((await api(b.base, laptop, 'POST', '/api/auth/logout')).status).toBe(204);
    for (const c of [onA, onB]) await c.waitFor(() => c.closeCode !== undefined);
    expect([onA.closeCode, onB.closeCode]).toEqual([4401, 4401]);
    expect((await closeCodeOf(`${a.wsBase}/ws`, { authorization: `Bearer ${laptop}` })).code).toBe(4401);
    // The phone was not signed out: it is still open and still live.
    await task(sam.id);
    await phone.waitFor(() => (phone.doc as Doc).my_tasks.todo === 1);
    expect(phone.closeCode).toBeUndefined();
    expect(phone.doc).toEqual(await metrics(sam.token));
  });

  it('deactivating a user closes all their sockets on every instance with 4401', async () => {
    const tia = await person('tia');
    const other = await signIn(a.base, 'tia', PW);
    const bystander = await person('uma');
    const sockets = [await live(a, tia.token), await live(b, tia.token), await live(b, other)];
    const uma = await live(a, bystander.token);
    const res = await api(b.base, admin, 'PATCH', `/api/users/${tia.id}`, { active: false });
    expect(res.status).toBe(200);
    for (const c of sockets) await c.waitFor(() => c.closeCode !== undefined);
    expect(sockets.map((c) => c.closeCode)).toEqual([4401, 4401, 4401]);
    expect((await closeCodeOf(`${b.wsBase}/ws`, { authorization: `Bearer ${tia.token}` })).code).toBe(4401);
    // Nobody else was thrown out.
    await task(bystander.id);
    await uma.waitFor(() => (uma.doc as Doc).my_tasks.todo === 1);
    expect(uma.closeCode).toBeUndefined();
  });

  it('re-scopes a promoted user with a snapshot of their manager document', async () => {
    const vic = await person('vic');
    await task(vic.id, { status: 'done' });
    const onA = await live(a, vic.token);
    const onB = await live(b, vic.token);
    const seq = onA.seq;
    expect((onA.doc as Doc).role).toBe('user');
    const res = await api(a.base, admin, 'PATCH', `/api/users/${vic.id}`, { role: 'manager' });
    expect(res.status).toBe(200);
    for (const c of [onA, onB]) await c.waitFor(() => c.seq === seq + 1);
    for (const c of [onA, onB]) {
      expect(c.frames.at(-1)).toMatchObject({ type: 'snapshot', seq: seq + 1 });
      expect(c.doc).toMatchObject({ role: 'manager', team_tasks: { todo: 0 }, projects: {} });
      expect((c.doc as Doc).my_tasks.done).toBe(1);
      expect(c.doc).toEqual(await metrics(vic.token));
      expect(c.closeCode).toBeUndefined();
    }
    // Now a manager: their own project shows up live, as a delta on the new document.
    const made = await api(b.base, vic.token, 'POST', '/api/projects', { name: 'Vic’s' });
    expect(made.status).toBe(201);
    for (const c of [onA, onB]) await c.waitFor(() => c.seq === seq + 2);
    expect(onB.frames.at(-1)!.type).toBe('delta');
    expect(Object.keys((onB.doc as Doc).projects!)).toEqual([String(made.body.id)]);
    expect(onB.doc).toEqual(await metrics(vic.token));
    expect(onA.gaps).toEqual([]);
  });

  it('closes a socket that sends more than 64 KB (1009) and keeps serving everyone else', async () => {
    const wes = await person('wes');
    const xia = await person('xia');
    const big = await live(a, wes.token);
    const sameUser = await live(a, wes.token);
    const neighbour = await live(a, xia.token);
    big.ws.send('x'.repeat(16 * 1024)); // a large but allowed frame changes nothing
    big.ws.send('x'.repeat(70 * 1024));
    await big.waitFor(() => big.closeCode !== undefined);
    expect(big.closeCode).toBe(1009);

    await task(wes.id, {}, b);
    await task(xia.id, {}, b);
    await sameUser.waitFor(() => (sameUser.doc as Doc).my_tasks.todo === 1);
    await neighbour.waitFor(() => (neighbour.doc as Doc).my_tasks.todo === 1);
    expect([sameUser.closeCode, neighbour.closeCode]).toEqual([undefined, undefined]);
    expect((await fetch(`${a.base}/healthz`)).status).toBe(200);
    // The closed session resumes on the same instance with what it missed.
    const again = new LiveClient(a.wsBase, wes.token);
    open.push(again);
    again.doc = big.doc;
    again.seq = big.seq;
    await again.connect({ sessionId: big.sessionId!, lastSeq: big.seq });
    await again.waitFor(() => again.seq === sameUser.seq);
    expect(again.frames[0]).toMatchObject({ resumed: true });
    expect(again.doc).toEqual(await metrics(wes.token));
    expect(again.gaps).toEqual([]);
  });
});
