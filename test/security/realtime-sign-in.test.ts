import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { api, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';
const HEARTBEAT_MS = 1000;
/** Time for a close to travel back and for a loaded test machine to get round to it. */
const SLACK_MS = 2500;
const CAP = 25;

/** One socket as a user's browser sees it: what arrived, and how and when it ended. */
interface Socket {
  ws: WebSocket;
  snapshot: boolean;
  deltas: number;
  code: number | undefined;
  closedAt: number | undefined;
}

function openSocket(inst: Instance, token: string): Socket {
  const ws = new WebSocket(`${inst.wsBase}/ws`, { headers: { authorization: `Bearer ${token}` } });
  const s: Socket = { ws, snapshot: false, deltas: 0, code: undefined, closedAt: undefined };
  ws.on('message', (data) => {
    const type = (JSON.parse(String(data)) as { type: string }).type;
    if (type === 'snapshot') s.snapshot = true;
    if (type === 'delta') s.deltas++;
  });
  ws.on('close', (code) => {
    s.code = code;
    s.closedAt = Date.now();
  });
  ws.on('error', () => {});
  return s;
}

async function until(predicate: () => boolean, timeoutMs: number, what: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stillOpen = (sockets: Socket[]) =>
  `${sockets.filter((s) => s.code === undefined).length} of ${sockets.length} still open; codes ${JSON.stringify(
    sockets.map((s) => s.code),
  )}`;

/**
 * A sign-in that ends (sign-out, password reset, expiry) takes its live sockets with it on every
 * instance, however the ending races with sockets being opened; and a user cannot pile up sockets.
 * Three real portal processes, one PostgreSQL, one Redis; a short heartbeat.
 */
describe('realtime sockets end with their sign-in (three instances)', () => {
  let cluster: Cluster;
  let admin: string;
  let project: number;
  let db: pg.Client;
  const all: Socket[] = [];
  const open = (inst: Instance, token: string) => {
    const s = openSocket(inst, token);
    all.push(s);
    return s;
  };
  const person = async (name: string) => {
    const res = await api(cluster.instances[0]!.base, admin, 'POST', '/api/users', {
      username: name,
      password: PW,
      role: 'user',
    });
    expect(res.status).toBe(201);
    return res.body.id as number;
  };
  const assign = async (assignee: number) => {
    const res = await api(cluster.instances[1]!.base, admin, 'POST', '/api/tasks', {
      project_id: project,
      title: 'Work',
      assignee_id: assignee,
    });
    expect(res.status).toBe(201);
  };

  /**
   * Opens `count` sockets with `token`, spread over the instances and over ~400 ms, and runs
   * `end` (which ends the sign-in) in the middle of it. Every one of them must end with 4401
   * within one heartbeat interval of `end` answering.
   */
  const race = async (token: string, count: number, end: () => Promise<void>) => {
    const sockets: Socket[] = [];
    const opening = Array.from({ length: count }, async (_, i) => {
      await sleep((i * 400) / count);
      sockets.push(open(cluster.instances[i % cluster.instances.length]!, token));
    });
    await sleep(200);
    await end();
    const endedAt = Date.now();
    await Promise.all(opening);
    await until(
      () => sockets.every((s) => s.code !== undefined),
      HEARTBEAT_MS + SLACK_MS,
      () => stillOpen(sockets),
    );
    expect(sockets.map((s) => s.code)).toEqual(sockets.map(() => 4401));
    // Some of them did get going before the sign-in ended: the race was a race.
    expect(sockets.some((s) => s.snapshot)).toBe(true);
    return Math.max(...sockets.map((s) => s.closedAt! - endedAt));
  };

  beforeAll(async () => {
    cluster = await startCluster(3, {
      heartbeatMs: HEARTBEAT_MS,
      env: { REALTIME_MAX_SOCKETS_PER_USER: String(CAP) },
    });
    admin = await signIn(cluster.instances[0]!.base, ADMIN.username, ADMIN.password);
    project = (await api(cluster.instances[0]!.base, admin, 'POST', '/api/projects', { name: 'Race' })).body
      .id;
    db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
  }, 90_000);
  afterAll(async () => {
    for (const s of all) s.ws.terminate();
    await db?.end();
    await cluster?.stop();
  });

  it('a logout racing 60 opening sockets closes every one of them with 4401; the other sign-in stays', async () => {
    const id = await person('ana');
    const laptop = await signIn(cluster.instances[0]!.base, 'ana', PW);
    const phone = await signIn(cluster.instances[1]!.base, 'ana', PW);
    const phoneSocket = open(cluster.instances[2]!, phone);
    await until(
      () => phoneSocket.snapshot,
      10_000,
      () => 'phone snapshot',
    );
    const worst = await race(laptop, 60, async () => {
      const res = await api(cluster.instances[1]!.base, laptop, 'POST', '/api/auth/logout');
      expect(res.status).toBe(204);
    });
    console.info(`logout race: last socket closed ${worst} ms after the logout answered`);
    // The other sign-in was not touched, and is still live.
    await assign(id);
    await until(
      () => phoneSocket.deltas > 0,
      10_000,
      () => 'phone delta',
    );
    expect(phoneSocket.code).toBeUndefined();
  });

  it('an admin password reset racing sockets opened with the (stolen) token closes them all with 4401', async () => {
    const id = await person('ben');
    const stolen = await signIn(cluster.instances[2]!.base, 'ben', PW);
    const worst = await race(stolen, 60, async () => {
      const res = await api(cluster.instances[0]!.base, admin, 'PATCH', `/api/users/${id}`, {
        password: 'a-brand-new-password',
      });
      expect(res.status).toBe(200);
    });
    console.info(`password-reset race: last socket closed ${worst} ms after the reset answered`);
    // Nothing reaches the thief afterwards: a new socket is refused too.
    const again = open(cluster.instances[1]!, stolen);
    await until(
      () => again.code !== undefined,
      10_000,
      () => 'refused',
    );
    expect(again.code).toBe(4401);
  });

  it('a sign-in revoked or expired without any message loses its sockets everywhere within one heartbeat', async () => {
    const carl = await person('carl');
    const dora = await person('dora');
    const eve = await person('eve');
    const carlToken = await signIn(cluster.instances[0]!.base, 'carl', PW);
    const doraToken = await signIn(cluster.instances[0]!.base, 'dora', PW);
    const eveToken = await signIn(cluster.instances[0]!.base, 'eve', PW);
    const carls = cluster.instances.map((inst) => open(inst, carlToken));
    const doras = cluster.instances.map((inst) => open(inst, doraToken));
    const eves = cluster.instances.map((inst) => open(inst, eveToken));
    await until(
      () => all.every((s) => s.snapshot || s.code !== undefined),
      10_000,
      () => 'snapshots',
    );
    // Straight in the database, as if the revocation message were lost (a Redis reconnect), and
    // a sign-in reaching its expiry while its sockets are open.
    await db.query('update auth_sessions set revoked_at = now() where user_id = $1', [carl]);
    await db.query('update auth_sessions set expires_at = now() where user_id = $1', [dora]);
    const at = Date.now();
    const ended = [...carls, ...doras];
    await until(
      () => ended.every((s) => s.code !== undefined),
      HEARTBEAT_MS + SLACK_MS,
      () => stillOpen(ended),
    );
    expect(ended.map((s) => s.code)).toEqual(ended.map(() => 4401));
    console.info(
      `re-validation: closed ${Math.max(...ended.map((s) => s.closedAt! - at))} ms after revoking`,
    );
    // Someone else's sign-in is untouched.
    await assign(eve);
    await until(
      () => eves.every((s) => s.deltas > 0),
      10_000,
      () => 'eve deltas',
    );
    expect(eves.map((s) => s.code)).toEqual([undefined, undefined, undefined]);
  });

  it(`caps one user's sockets per instance at REALTIME_MAX_SOCKETS_PER_USER (${CAP}), closing the next with 4429`, async () => {
    const fay = await person('fay');
    const gus = await person('gus');
    const token = await signIn(cluster.instances[0]!.base, 'fay', PW);
    const [one, two] = cluster.instances as [Instance, Instance];
    const first = Array.from({ length: CAP }, () => open(one, token));
    await until(
      () => first.every((s) => s.snapshot),
      15_000,
      () => 'snapshots',
    );
    const extra = open(one, token);
    await until(
      () => extra.code !== undefined,
      10_000,
      () => 'extra closed',
    );
    expect(extra.code).toBe(4429);
    expect(extra.snapshot).toBe(false);
    // Counted per instance and per user: the same user elsewhere, and anyone else here, are fine.
    const elsewhere = open(two, token);
    const other = open(one, await signIn(one.base, 'gus', PW));
    await until(
      () => elsewhere.snapshot && other.snapshot,
      10_000,
      () => 'others',
    );
    // The capped sockets are all still live; closing one makes room for another.
    await assign(fay);
    await until(
      () => first.every((s) => s.deltas > 0),
      10_000,
      () => 'deltas',
    );
    first[0]!.ws.close(1000);
    await until(
      () => first[0]!.code !== undefined,
      10_000,
      () => 'closed',
    );
    let next = open(one, token);
    // The server learns of the close a moment after the client does.
    await until(
      () => next.snapshot || next.code !== undefined,
      10_000,
      () => 'next',
    );
    if (next.code === 4429) {
      await sleep(200);
      next = open(one, token);
      await until(
        () => next.snapshot || next.code !== undefined,
        10_000,
        () => 'next',
      );
    }
    expect(next.snapshot).toBe(true);
    expect(gus).toBeGreaterThan(0);
  });
});
