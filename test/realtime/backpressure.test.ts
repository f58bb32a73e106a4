import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { api, LiveClient, signIn } from '../support/live-client.ts';

/**
 * A client that stops reading cannot make the server buffer without bound: once more than 1 MB
 * waits unsent, its socket is closed with 4008, and it can resume.
 */
describe('slow consumers', () => {
  let cluster: Cluster;
  let inst: Instance;
  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('closes a socket that does not read with 4008, then lets it resume', async () => {
    const admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const other = await api(inst.base, admin, 'POST', '/api/users', {
      username: 'second',
      password: 'a-long-admin-password',
      role: 'admin',
    });
    const token = await signIn(inst.base, 'second', 'a-long-admin-password');
    const sql = new pg.Client({ connectionString: cluster.databaseUrl });
    await sql.connect();
    // 2,000 projects with long names: an admin's snapshot is about half a megabyte.
    await sql.query(
      `insert into projects (name, owner_id) select repeat('x', 190) || g, $1 from generate_series(1, 2000) g`,
      [other.body.id],
    );
    const slow = await new LiveClient(inst.wsBase, token).connect();
    await slow.waitFor(() => slow.seq > 0, 10_000);
    // A second, reading session of the same user paces the flips: each one is seen published.
    const reader = await new LiveClient(inst.wsBase, token).connect();
    await reader.waitFor(() => reader.seq > 0, 10_000);
    const socket = (slow.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    // Each role flip re-scopes the document: a full snapshot frame (about half a megabyte) per flip,
    // sent to both sessions. 24 of them are far more than socket buffers hold.
    for (let i = 0; i < 24; i++) {
      const before = reader.seq;
      await sql.query('update users set role = $1 where id = $2', [
        i % 2 ? 'admin' : 'manager',
        other.body.id,
      ]);
      await reader.waitFor(() => reader.seq > before, 20_000);
    }
    reader.close();
    socket.resume();
    await slow.waitFor(() => slow.closeCode !== undefined, 40_000);
    expect(slow.closeCode).toBe(4008);
    expect((await fetch(`${inst.base}/healthz`)).status).toBe(200);

    const again = await new LiveClient(inst.wsBase, token).connect({
      sessionId: slow.sessionId!,
      lastSeq: slow.seq,
    });
    await again.waitFor(() => again.frames.length >= 2, 10_000);
    expect(again.frames[0]).toMatchObject({ type: 'hello', resumed: true });
    const truth = (await api(inst.base, token, 'GET', '/api/metrics')).body;
    await again.waitFor(() => JSON.stringify(again.doc) === JSON.stringify(truth), 10_000);
    again.close();
    await sql.end();
  }, 90_000);
});
