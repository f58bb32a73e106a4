import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.ts';
import { openDatabase } from '../../src/db/open.ts';
import { Engine } from '../../src/realtime/engine.ts';
import { realtimeKeys } from '../../src/realtime/keys.ts';
import { MemoryBus, MemoryStore } from '../../src/realtime/memory.ts';

/**
 * The leader's loop must end whenever leadership ends, even when it ended before the loop got
 * to wait for it (the connection lost while `listen` was answering): otherwise the instance
 * never takes part in an election again.
 */
describe('Engine.lead', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ driver: 'pglite', dataDir: undefined });
  }, 60_000);
  afterAll(() => database?.close());

  it('returns when leadership was already lost as it started', async () => {
    const store = new MemoryStore(new MemoryBus(), realtimeKeys('engine').userChannel);
    const engine = new Engine({
      database,
      store,
      logger: pino({ level: 'silent' }),
      coalesceMs: 1,
      sweepMs: 60_000,
    });
    const connection = await database.openListener();
    const lost = new AbortController();
    lost.abort();
    const outcome = await Promise.race([
      engine.lead(connection, lost.signal).then(() => 'returned'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 3000)),
    ]);
    expect(outcome).toBe('returned');
    await connection.close();
  });
});
