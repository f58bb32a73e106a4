/**
 * Where the time of an instance went during one step of a benchmark, from its `/metrics`
 * (src/observability/metrics.ts): event-loop delay (`monitorEventLoopDelay`, 10 ms resolution,
 * reset on every scrape), GC pauses (PerformanceObserver 'gc'), the leader's batches (duration
 * and changes per batch) and the heartbeat beats (duration). Scrape once when the step starts
 * (`begin`: resets the loop histogram, keeps the counters) and once when it ends (`end`).
 */
import type { Instance } from './instances.ts';

type Sample = Map<string, number>;

async function scrape(instance: Instance): Promise<Sample> {
  const text = await (await fetch(`${instance.metricsBase}/metrics`)).text();
  const sample: Sample = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const space = line.lastIndexOf(' ');
    sample.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return sample;
}

/** Sum of every series of `name` whose labels contain `labels` (e.g. `kind="major"`). */
function total(s: Sample, name: string, labels = ''): number {
  let n = 0;
  for (const [key, value] of s) {
    const bare = key.split('{')[0];
    if (bare === name && key.includes(labels)) n += value;
  }
  return n;
}

/** Count of observations above `le` seconds in a histogram (from its cumulative buckets). */
function above(s: Sample, name: string, le: string): number {
  return total(s, `${name}_count`) - total(s, `${name}_bucket`, `le="${le}"`);
}

export interface StepProbe {
  /** Event-loop delay p99 and max, ms (sampled every 10 ms; the 10 ms are included). */
  loopP99: number;
  loopMax: number;
  gcCount: number;
  gcMs: number;
  /** GC pauses of 10 ms and more. */
  gcOver10ms: number;
  majorGc: number;
  batches: number;
  batchMs: number;
  batchesOver100ms: number;
  changes: number;
  beats: number;
  beatMs: number;
  beatsOver50ms: number;
}

export class Probe {
  #before: Sample[] = [];
  constructor(readonly instances: Instance[]) {}

  async begin() {
    this.#before = await Promise.all(this.instances.map(scrape));
  }

  /** One line of figures per instance for the time since `begin`. */
  async end(): Promise<StepProbe[]> {
    const after = await Promise.all(this.instances.map((i) => scrape(i).catch(() => new Map())));
    return after.map((a, i) => {
      const b = this.#before[i] ?? new Map();
      const d = (f: (s: Sample) => number) => f(a) - f(b);
      const gc = 'portal_nodejs_gc_duration_seconds';
      const batch = 'portal_realtime_batch_duration_seconds';
      const beat = 'portal_realtime_heartbeat_duration_seconds';
      return {
        loopP99: (a.get('portal_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000,
        loopMax: (a.get('portal_nodejs_eventloop_lag_max_seconds') ?? Number.NaN) * 1000,
        gcCount: d((s) => total(s, `${gc}_count`)),
        gcMs: d((s) => total(s, `${gc}_sum`)) * 1000,
        gcOver10ms: d((s) => above(s, gc, '0.01')),
        majorGc: d((s) => total(s, `${gc}_count`, 'kind="major"')),
        batches: d((s) => total(s, `${batch}_count`)),
        batchMs: d((s) => total(s, `${batch}_sum`)) * 1000,
        batchesOver100ms: d((s) => above(s, batch, '0.1')),
        changes: d((s) => total(s, 'portal_realtime_batch_changes_sum')),
        beats: d((s) => total(s, `${beat}_count`)),
        beatMs: d((s) => total(s, `${beat}_sum`)) * 1000,
        beatsOver50ms: d((s) => above(s, beat, '0.05')),
      };
    });
  }
}
