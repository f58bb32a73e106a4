/**
 * The write load of the realtime benchmarks: plain SQL `UPDATE tasks SET status` on each user's
 * probe task (lib/organisation.ts), moving it to the next status, at a steady rate from a pool of
 * its own. The clock of a write starts just before the statement is sent.
 */
import type pg from 'pg';
import { TASK_STATUSES } from '../../../src/db/schema/enums.ts';
import { now, sleep } from './run.ts';

/** Task statuses in the order the load generators index them (both take them from the schema). */
export const STATUSES = TASK_STATUSES;

export interface Write {
  user: number;
  /** Index into STATUSES. */
  status: number;
  sent: number;
  /** When the writer got the COMMIT acknowledgement (0 until then, or if it failed). */
  committed: number;
}

export class StatusWriter {
  /** Each user's task status as last written (every probe task starts as todo). */
  private readonly written = new Map<number, number>();
  private turn = 0;

  /**
   * @param stride steps through `users` this many at a time, so that writes to one user are far
   *   apart (`users.length / rate` seconds at least when the stride is prime to the count).
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly taskOf: Map<number, number>,
    private readonly users: number[],
    private readonly stride: number,
  ) {}

  /** Writes at `rate` per second, `total` writes or until stopped. */
  start(rate: number, total = Number.POSITIVE_INFINITY) {
    const writes: Write[] = [];
    const inflight = new Set<Promise<unknown>>();
    let running = true;
    let failed = 0;
    const done = (async () => {
      const t0 = now();
      for (let i = 0; running && i < total; i++) {
        const wait = t0 + (i * 1000) / rate - now();
        if (wait > 0) await sleep(wait);
        if (!running) break;
        const user = this.users[(this.turn++ * this.stride) % this.users.length]!;
        const status = ((this.written.get(user) ?? 0) + 1) % STATUSES.length;
        this.written.set(user, status);
        const write: Write = { user, status, sent: now(), committed: 0 };
        writes.push(write);
        const p = this.pool
          .query('update tasks set status = $1 where id = $2', [STATUSES[status], this.taskOf.get(user)])
          .then(() => {
            write.committed = now();
          })
          .catch(() => failed++)
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await Promise.all(inflight);
    })();
    return {
      writes,
      failed: () => failed,
      /** Resolves when `total` writes are committed (or failed). */
      done,
      stop: async () => {
        running = false;
        await done;
      },
    };
  }
}
