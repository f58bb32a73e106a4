/**
 * Preloaded into the processes `bench:memory` measures (NODE_OPTIONS `--expose-gc --import`): on
 * SIGUSR2 it runs a full garbage collection and writes `process.memoryUsage()` to
 * `$MEMORY_PROBE_DIR/<pid>.json`, so the benchmark can read what the heap holds without a port or
 * code of its own in the server. Plain JavaScript: it loads before tsx.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';

const dir = process.env.MEMORY_PROBE_DIR;
if (dir) {
  process.on('SIGUSR2', () => {
    const rssBefore = process.memoryUsage.rss();
    // Committed size of each V8 space before the GC: what the opening left (young generation included).
    const spacesBefore = Object.fromEntries(
      getHeapSpaceStatistics().map((s) => [s.space_name, Math.round(s.space_size / 1024)]),
    );
    globalThis.gc?.();
    globalThis.gc?.();
    const usage = process.memoryUsage();
    // For finding out what a session holds (not used by the benchmark's figures): a heap snapshot too.
    const snapshots = process.env.MEMORY_PROBE_SNAPSHOTS;
    if (snapshots) writeHeapSnapshot(join(snapshots, `${process.pid}-${Date.now()}.heapsnapshot`));
    writeFileSync(
      join(dir, `${process.pid}.json`),
      JSON.stringify({ ...usage, rssBefore, spacesBefore, at: Date.now() }),
    );
  });
}
