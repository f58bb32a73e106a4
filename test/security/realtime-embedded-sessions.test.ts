import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.ts';
import { nodePlatform } from '../../src/platform/node.ts';
import type { Listening } from '../../src/platform/platform.ts';
import { MemoryStore } from '../../src/realtime/memory.ts';
import { buildRuntime, type Runtime } from '../../src/server.ts';
import { bootstrapAdmin } from '../../src/users/bootstrap.ts';
import { signIn } from '../support/live-client.ts';

const ADMIN = { username: 'chief', password: 'a-long-admin-password' };

interface Socket {
  ws: WebSocket;
  snapshot: boolean;
  code: number | undefined;
}

async function until(predicate: () => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Embedded mode (one process, PGlite, realtime state in memory): a user's sockets are capped, and
 * realtime sessions nobody resumes leave memory when they expire, whether or not anyone asks
 * about them again.
 */
describe('embedded realtime sessions', () => {
  let runtime: Runtime;
  let server: Listening | undefined;
  let wsBase: string;
  let base: string;
  let token: string;
  const all: Socket[] = [];
  const open = () => {
    const ws = new WebSocket(`${wsBase}/ws`, { headers: { authorization: `Bearer ${token}` } });
    const s: Socket = { ws, snapshot: false, code: undefined };
    ws.on('message', (d) => {
      if ((JSON.parse(String(d)) as { type: string }).type === 'snapshot') s.snapshot = true;
    });
    ws.on('close', (code) => {
      s.code = code;
    });
    ws.on('error', () => {});
    all.push(s);
    return s;
  };

  beforeAll(async () => {
    const config = loadConfig({
      DATABASE_URL: 'memory://',
      PORTAL_ADMIN_USERNAME: ADMIN.username,
      PORTAL_ADMIN_PASSWORD: ADMIN.password,
      PORTAL_DEMO: '0',
      SESSION_TTL_SECONDS: '5',
      // One second (not 200 ms): on a loaded CI machine a pong can take longer than two 200 ms beats.
      HEARTBEAT_INTERVAL_MS: '1000',
      REALTIME_MAX_SOCKETS_PER_USER: '3',
    });
    runtime = await buildRuntime(config, { platform: nodePlatform(), logger: pino({ level: 'silent' }) });
    await bootstrapAdmin(runtime.database.db, config.admin);
    server = await runtime.platform.listen(runtime.app.fetch, { port: 0, hostname: '127.0.0.1' });
    runtime.realtime.start();
    const { port } = server;
    base = `http://127.0.0.1:${port}`;
    wsBase = `ws://127.0.0.1:${port}`;
    token = await signIn(base, ADMIN.username, ADMIN.password);
  }, 60_000);
  afterAll(async () => {
    for (const s of all) s.ws.terminate();
    server?.close();
    await runtime?.close();
  });

  it('closes a user’s socket beyond REALTIME_MAX_SOCKETS_PER_USER with 4429', async () => {
    const three = [open(), open(), open()];
    await until(() => three.every((s) => s.snapshot), 10_000, 'snapshots');
    const fourth = open();
    await until(() => fourth.code !== undefined, 10_000, 'fourth closed');
    expect(fourth.code).toBe(4429);
    expect(fourth.snapshot).toBe(false);
    expect(three.map((s) => s.code)).toEqual([undefined, undefined, undefined]);
    for (const s of three) s.ws.close(1000);
    await until(() => three.every((s) => s.code !== undefined), 10_000, 'closed');
  });

  it('sweeps expired sessions out of memory although nobody looks them up again', async () => {
    const store = runtime.realtime.store;
    expect(store).toBeInstanceOf(MemoryStore);
    const memory = store as MemoryStore;
    // Twenty sessions opened and abandoned, a few at a time (the cap is three). On a loaded
    // machine the first ones may already have expired by the last round, so what is checked is
    // that each round left its sessions in memory, then that all of them go.
    let peak = 0;
    for (let round = 0; round < 7; round++) {
      // (Only as many sockets as are closed below: slicing a third away left it open.)
      const batch = round === 6 ? [open(), open()] : [open(), open(), open()];
      await until(() => batch.every((s) => s.snapshot), 10_000, 'snapshots');
      for (const s of batch) s.ws.close(1000);
      await until(() => batch.every((s) => s.code !== undefined), 10_000, 'closed');
      expect(memory.sessionCount).toBeGreaterThanOrEqual(batch.length);
      peak = Math.max(peak, memory.sessionCount);
    }
    expect(peak).toBeGreaterThanOrEqual(3);
    // Resumable for SESSION_TTL_SECONDS (5 s here) after their socket closed, then gone.
    await until(() => memory.sessionCount === 0, 30_000, `${memory.sessionCount} sessions left`);
  });
});
