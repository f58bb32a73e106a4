import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListenerConnection } from '../../src/db/database.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/** The realtime leader's connection on each driver: LISTEN wakes it, and it can hold the advisory lock. */
describe.each(['pglite', 'pg', 'neon'] as const)('listener connection on %s', (driver) => {
  let ctx: TestApp;
  let listener: ListenerConnection;
  beforeAll(async () => {
    ctx = await startTestApp(driver);
    listener = await ctx.database.openListener();
  });
  afterAll(async () => {
    await listener?.close();
    await ctx?.close();
  });

  it('wakes on a committed write, once per transaction', async () => {
    let wakes = 0;
    await listener.listen('portal_changes', () => wakes++);
    await ctx.database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into users (username, password_hash) values ('l1', 'x'), ('l2', 'x')`);
      await tx.execute(sql`update users set display_name = 'L' where username like 'l%'`);
    });
    const deadline = Date.now() + 3000;
    while (wakes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    expect(wakes).toBe(1);
  });

  it('holds the leader lock and reads the change log through it', async () => {
    const tryLock = async (on: ListenerConnection) =>
      (await on.query<{ ok: boolean }>('select pg_try_advisory_lock(424242) as ok'))[0]!.ok;
    expect(await tryLock(listener)).toBe(true);
    // On a server, another instance's listener is refused while this one holds it (PGlite has one
    // session: embedded mode is always its own leader and never asks).
    if (driver !== 'pglite') {
      const other = await ctx.database.openListener();
      try {
        expect(await tryLock(other)).toBe(false);
        await listener.query('select pg_advisory_unlock(424242)');
        expect(await tryLock(other)).toBe(true);
      } finally {
        await other.close();
      }
    }
    const rows = await listener.query<{ n: string }>('select count(*)::text as n from change_log');
    expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(3);
  });
});
