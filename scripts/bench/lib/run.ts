/**
 * The clock, log and clean-up of one benchmark process (scripts/bench/*.ts run one benchmark each).
 */
import { loadavg } from 'node:os';
import { runBench } from '../support.ts';

/** Milliseconds since the epoch, with sub-millisecond resolution. */
export const now = () => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const benchStart = now();
/** When this benchmark started, and the machine's load average then (for the report). */
export const started = new Date();
export const loadAtStart = loadavg().map((l) => l.toFixed(1));
export const loadNow = () => loadavg().map((l) => l.toFixed(1));
export const elapsedMinutes = () => ((now() - benchStart) / 60_000).toFixed(1);

/** A progress line on stderr, stamped with the seconds since the benchmark started. */
export const log = (message: string) =>
  console.error(`[${((now() - benchStart) / 1000).toFixed(0).padStart(4)} s] ${message}`);

const cleanup: (() => unknown)[] = [];
/** Registers a clean-up step; they run in reverse order when the benchmark ends, however it ends. */
export const defer = (step: () => unknown) => {
  cleanup.push(step);
};
/** Runs the benchmark's scenarios, then the deferred clean-up, then exits. */
export const finish = (main: () => Promise<void>) => runBench(main, cleanup);
