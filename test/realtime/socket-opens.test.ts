import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WAITING_PER_OPENING } from '../../src/realtime/gateway.ts';
import { ADMIN, type Cluster, type Instance, type RuntimeName, startCluster } from '../support/cluster.ts';
import { api, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';

/**
 * How one socket ended (its close code and reason, the frames it got, the HTTP answer if it was
 * refused), or that it reached its snapshot (then it is closed here with 1000).
 */
function attempt(url: string, headers: Record<string, string>) {
  return new Promise<{ code: number; reason: string; frames: string[]; status?: number }>((resolve) => {
    const frames: string[] = [];
    let status: number | undefined;
    const ws = new WebSocket(url, { headers });
    ws.on('message', (data) => {
      frames.push((JSON.parse(String(data)) as { type: string }).type);
      if (frames.at(-1) === 'snapshot') ws.close(1000);
    });
    ws.on('unexpected-response', (_request, response) => {
      status = response.statusCode;
      response.resume();
      ws.terminate();
    });
    ws.on('error', () => {});
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason), frames, status }));
  });
}

/**
 * Socket opens on Node skip the app (docs/decisions/0031-socket-opens-without-the-middleware.md):
 * the gateway takes the upgrade from its headers, and its own batched check is the database's
 * word on the sign-in, before any data. One real instance on PostgreSQL and Redis.
 */
describe('socket opens taken before the app (Node)', () => {
  let cluster: Cluster;
  let inst: Instance;
  let admin: string;
  let db: pg.Client;

  beforeAll(async () => {
    cluster = await startCluster(1, { heartbeatMs: 15_000 });
    inst = cluster.instances[0]!;
    admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    db = new pg.Client({ connectionString: cluster.databaseUrl });
    await db.connect();
  }, 90_000);
  afterAll(async () => {
    await db?.end();
    await cluster?.stop();
  });

  it('refuses a user who must change their password with 4403 before any frame; after the change they get their socket', async () => {
    const created = await api(inst.base, admin, 'POST', '/api/users', {
      username: 'moe',
      password: PW,
      role: 'user',
    });
    const token = await signIn(inst.base, 'moe', PW);
    const bearer = { authorization: `Bearer ${token}` };
    expect((await attempt(`${inst.wsBase}/ws`, bearer)).frames.slice(0, 2)).toEqual(['hello', 'snapshot']);

    await db.query('update users set must_change_password = true where id = $1', [created.body.id]);
    // The HTTP side agrees: the API refuses the same token.
    expect((await api(inst.base, token, 'GET', '/api/tasks')).status).toBe(403);
    const refused = await attempt(`${inst.wsBase}/ws`, bearer);
    expect(refused).toMatchObject({ code: 4403, reason: 'password change required', frames: [] });

    await db.query('update users set must_change_password = false where id = $1', [created.body.id]);
    expect((await attempt(`${inst.wsBase}/ws`, bearer)).frames.slice(0, 2)).toEqual(['hello', 'snapshot']);
  });

  it('runs none of the HTTP middleware for an upgrade: no request of /ws in the HTTP metrics', async () => {
    const token = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const sockets = await Promise.all(
      Array.from(
        { length: 5 },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const ws = new WebSocket(`${inst.wsBase}/ws`, { headers: { authorization: `Bearer ${token}` } });
            ws.on('message', (data) => {
              if ((JSON.parse(String(data)) as { type: string }).type === 'snapshot') resolve(ws);
            });
            ws.on('close', (code) => reject(new Error(`closed with ${code}`)));
          }),
      ),
    );
    for (const ws of sockets) ws.close();
    const metrics = await (await fetch(`${inst.metricsBase}/metrics`)).text();
    // The requests that did go through the app are there (the sign-in above)…
    expect(metrics).toMatch(/portal_http_request_duration_seconds_count\{[^}]*route="\/api\/auth\/login"/);
    // …the upgrades are not: requestLog (the first middleware) never saw them.
    expect(metrics).not.toMatch(/route="\/ws"/);
  });
});

/**
 * Past REALTIME_MAX_OPENING, upgrades wait in a line (WAITING_PER_OPENING per opening slot) for an
 * open to end instead of being refused at once; only past the line is one refused (503 +
 * Retry-After). Node keeps the line on its raw 'upgrade' event, Deno in front of the app's fetch.
 */
describe.each<RuntimeName>(['node', 'deno'])(
  'the line of upgrades waiting for an open to end (%s)',
  (runtime) => {
    let cluster: Cluster;
    let inst: Instance;
    let token: string;
    const opening = 5;
    const line = opening * WAITING_PER_OPENING;

    beforeAll(async () => {
      cluster = await startCluster(1, {
        runtimes: [runtime],
        heartbeatMs: 15_000,
        env: { REALTIME_MAX_OPENING: String(opening), REALTIME_MAX_SOCKETS_PER_USER: '10000' },
      });
      inst = cluster.instances[0]!;
      token = await signIn(inst.base, ADMIN.username, ADMIN.password);
    }, 90_000);
    afterAll(() => cluster?.stop());

    const burst = async (count: number) => {
      const ended = await Promise.all(
        Array.from({ length: count }, () =>
          attemptWithHeaders(`${inst.wsBase}/ws`, { authorization: `Bearer ${token}` }),
        ),
      );
      return {
        snapshots: ended.filter((e) => e.frames.includes('snapshot')).length,
        refused: ended.filter((e) => e.status === 503),
        other: ended.filter((e) => !e.frames.includes('snapshot') && e.status !== 503),
      };
    };

    it(`lets as many upgrades at once as are opening and waiting (${opening} + ${line}) all open, none refused`, async () => {
      const { snapshots, refused, other } = await burst(opening + line);
      expect(other).toEqual([]);
      expect(refused).toEqual([]);
      expect(snapshots).toBe(opening + line);
    });

    it('refuses what the line cannot hold with 503 and Retry-After, and opens the rest', async () => {
      const count = 4 * (opening + line);
      const { snapshots, refused, other } = await burst(count);
      expect(other).toEqual([]);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((r) => r.retryAfter === '1')).toBe(true);
      expect(snapshots + refused.length).toBe(count);
    });
  },
);

/** `attempt`, also saying the Retry-After of a refusal. */
function attemptWithHeaders(url: string, headers: Record<string, string>) {
  return new Promise<{ frames: string[]; status?: number; retryAfter?: string }>((resolve) => {
    const frames: string[] = [];
    const ws = new WebSocket(url, { headers });
    ws.on('message', (data) => {
      frames.push((JSON.parse(String(data)) as { type: string }).type);
      if (frames.at(-1) === 'snapshot') ws.close(1000);
    });
    ws.on('unexpected-response', (_request, response) => {
      response.resume();
      const retryAfter = response.headers['retry-after'];
      resolve({
        frames,
        status: response.statusCode,
        ...(retryAfter ? { retryAfter: String(retryAfter) } : {}),
      });
      ws.terminate();
    });
    ws.on('error', () => {});
    ws.on('close', () => resolve({ frames }));
  });
}
