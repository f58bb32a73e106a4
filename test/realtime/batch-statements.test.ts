import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database, ListenerConnection } from '../../src/db/database.ts';
import { openDatabase } from '../../src/db/open.ts';
import { seedOrganisation } from '../../src/db/seed/organisation.ts';
import { Engine } from '../../src/realtime/engine.ts';
import { realtimeKeys } from '../../src/realtime/keys.ts';
import { MemoryBus, MemoryStore } from '../../src/realtime/memory.ts';
import { freshPgDatabase } from '../support/pg.ts';

/**
 * Issue 12, goal 5: a change batch costs at most 5 SQL statements, whatever the number of users it
 * touches. Counted on both of the leader's connections: the pool (the driver's statement counter)
 * and the listener (a counting wrapper), from the write's commit until the batch is published.
 */
describe('SQL statements per change batch', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let url: string;
  let writer: pg.Client;
  let engine: Engine;
  let listenerStatements = 0;
  const stop = new AbortController();
  let leading: Promise<void>;
  /** One task of each of 200 plain users: [task id, user id]. */
  let tasks: [number, number][];

  beforeAll(async () => {
    const fresh = await freshPgDatabase('batchstmts');
    ({ url, drop } = fresh);
    database = await openDatabase({ driver: 'pg', url });
    await seedOrganisation(database.db, {
      managers: 10,
      users: 220,
      projects: 30,
      tasks: 1500,
      passwordHash: async () => 'not a real hash',
    });
    writer = new pg.Client({ connectionString: url });
    await writer.connect();
    const { rows } = await writer.query<{ id: number; assignee_id: number }>(
      `select distinct on (t.assignee_id) t.id, t.assignee_id from tasks t join users u on u.id = t.assignee_id
        where u.role = 'user' and t.status <> 'done' order by t.assignee_id, t.id limit 200`,
    );
    tasks = rows.map((r) => [r.id, r.assignee_id]);
    expect(tasks.length).toBe(200);

    const store = new MemoryStore(new MemoryBus(), realtimeKeys('batchstmts').userChannel);
    const { rows: everyone } = await writer.query<{ id: number }>('select id from users');
    await store.watch(
      everyone.map((u) => u.id),
      Date.now() + 600_000,
    );
    engine = new Engine({
      database,
      store,
      logger: pino({ level: 'silent' }),
      coalesceMs: 15,
      sweepMs: 600_000,
    });
    const connection = await database.openListener();
    const counted: ListenerConnection = {
      query: (text, params) => {
        listenerStatements++;
        return connection.query(text, params);
      },
      listen: (channel, onNotify) => connection.listen(channel, onNotify),
      onLost: (callback) => connection.onLost(callback),
      close: () => connection.close(),
    };
    leading = engine.lead(counted, stop.signal).finally(() => connection.close());
    // The first, full pass: every watched user gets a document.
    await until(() => engine.stats.snapshots >= everyone.length);
    // …and has finished (its cursor write follows the snapshots): a loaded machine once let its
    // tail fall into the first measured batch.
    await quiet();
  }, 180_000);

  afterAll(async () => {
    stop.abort();
    await leading;
    await writer?.end();
    await database?.close();
    await drop?.();
  });

  const until = async (done: () => boolean, ms = 60_000) => {
    const end = Date.now() + ms;
    while (!done()) {
      if (Date.now() > end) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  /** Until the leader's statement count has been still for 500 ms (10 s at most). */
  const quiet = async () => {
    const counted = () => database.stats.statements + listenerStatements;
    let last = counted();
    let stillSince = Date.now();
    await until(() => {
      if (counted() !== last) {
        last = counted();
        stillSince = Date.now();
      }
      return Date.now() - stillSince >= 500;
    }, 10_000);
  };

  /** Runs `write` (one transaction) and answers the statements of the batch it caused. */
  const batchCost = async (write: () => Promise<unknown>, deltas: number) => {
    const before = {
      pool: database.stats.statements,
      listener: listenerStatements,
      batches: engine.stats.batches,
      deltas: engine.stats.deltas,
    };
    await write();
    await until(() => engine.stats.deltas >= before.deltas + deltas);
    // The cursor write follows the publication (a fixed 300 ms was too short on a loaded machine).
    await quiet();
    expect(engine.stats.batches).toBe(before.batches + 1);
    return database.stats.statements - before.pool + (listenerStatements - before.listener);
  };

  it('a batch touching 1 user costs at most 5 statements', async () => {
    const [task] = tasks[0]!;
    const cost = await batchCost(
      () => writer.query(`update tasks set status = 'done' where id = $1`, [task]),
      1,
    );
    expect(cost).toBeLessThanOrEqual(5);
    console.log('statements per batch', cost);
    expect(engine.stats.lastBatchStatements).toBe(cost);
  });

  it('a batch touching 200 users costs the same', async () => {
    const ids = tasks.map(([task]) => task);
    const cost = await batchCost(
      () =>
        writer.query(
          `update tasks set status = case when status = 'blocked' then 'todo' else 'blocked' end::task_status
            where id = any($1::int[])`,
          [ids.slice(1)],
        ),
      199,
    );
    expect(cost).toBeLessThanOrEqual(5);
    console.log('statements per batch', cost);
    expect(engine.stats.lastBatchStatements).toBe(cost);
  });
});
