/**
 * Load-generator processes (scripts/bench/*-worker.ts): each holds many WebSocket sessions and
 * answers commands over its IPC channel. The benchmark never shares its event loop with them.
 */
import type { ChildProcess } from 'node:child_process';
import { ask, cpuMs, spawnNode } from '../support.ts';
import { sum } from './format.ts';
import { defer } from './run.ts';

export class LoadGenerators<Report> {
  private constructor(readonly processes: ChildProcess[]) {}

  /** Spawns `count` copies of `script` and waits until each says it is ready. */
  static async start<Report>(script: string, count: number): Promise<LoadGenerators<Report>> {
    const processes = Array.from({ length: count }, () => spawnNode([script], {}, true));
    defer(() => {
      for (const p of processes) if (p.exitCode === null) p.kill('SIGKILL');
    });
    await Promise.all(processes.map((p) => new Promise((r) => p.once('message', r))));
    return new LoadGenerators<Report>(processes);
  }

  get count() {
    return this.processes.length;
  }

  /** The same command to every generator; their replies in order. */
  all<T = unknown>(message: object): Promise<T[]> {
    return Promise.all(this.processes.map((p) => ask<T>(p, message)));
  }

  report(): Promise<Report[]> {
    return this.all<Report>({ cmd: 'report' });
  }

  /**
   * Opens `sessions`, an even share on each generator: `message(share, offset)` is the command for
   * the share starting at `offset`. Counts what opened and what failed.
   */
  async open<S>(sessions: S[], message: (share: S[], offset: number) => object) {
    const size = Math.ceil(sessions.length / this.count);
    const replies = await Promise.all(
      this.processes.map((p, i) =>
        ask<{ opened: number; failed: number }>(
          p,
          message(sessions.slice(i * size, (i + 1) * size), i * size),
        ),
      ),
    );
    return { opened: sum(replies, (r) => r.opened), failed: sum(replies, (r) => r.failed) };
  }

  /** CPU time the generators have used, in ms. */
  cpuMs(): number {
    return sum(this.processes, (p) => cpuMs(p.pid!));
  }

  close() {
    for (const p of this.processes) p.send({ cmd: 'close' });
  }
}

/** The sessions held, and how many each user holds (a write to a user reaches that many). */
export class HeldSessions {
  held = 0;
  readonly perUser = new Map<number, number>();

  /** New sessions from the number held up to `target`, cycling through `users`. */
  plan<S>(target: number, users: { id: number }[], make: (user: number) => S): S[] {
    return Array.from({ length: target - this.held }, (_, i) => {
      const user = users[(this.held + i) % users.length]!.id;
      this.perUser.set(user, (this.perUser.get(user) ?? 0) + 1);
      return make(user);
    });
  }

  /** Deliveries a set of writes should cause: one per session of each written user. */
  expected(writes: { user: number }[]): number {
    return sum(writes, (w) => this.perUser.get(w.user) ?? 0);
  }
}
