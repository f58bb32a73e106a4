/**
 * Open storms (issue 12, goal 6; docs/decisions/0025-open-storms.md): STORM_SESSIONS
 * sockets opened over STORM_INSTANCES portal processes, at 1,000/s and all at once, from a
 * client process of their own; once as before the fix (Node's default listen backlog 511, no
 * admission control) and once as now (backlog 4096, at most REALTIME_MAX_OPENING upgrades
 * opening per instance, the rest answered 503 + Retry-After). Prints, per run, how the sockets
 * ended and how much the kernel's TCP counters moved (`nstat -az`, system-wide: other work on
 * the machine adds to them).
 *
 *   npm run bench:open-storm     # STORM_SESSIONS (12000), STORM_INSTANCES (3), STORM_RATES (1000,0)
 */
import { ADMIN, startCluster } from '../../test/support/cluster.ts';
import { api, signIn } from '../../test/support/live-client.ts';
import { type StormResult, stormProcess, tcpCounters } from './lib/storm.ts';
import { machine } from './support.ts';

const SESSIONS = Number(process.env.STORM_SESSIONS ?? 12_000);
const INSTANCES = Number(process.env.STORM_INSTANCES ?? 3);
const RATES = (process.env.STORM_RATES ?? '1000,0').split(',').map(Number);
const MODES = (process.env.STORM_MODES ?? 'before,after').split(',') as ('before' | 'after')[];

const SETTINGS = {
  before: { LISTEN_BACKLOG: '511', REALTIME_MAX_OPENING: '100000' },
  after: {},
};

interface Row {
  mode: string;
  rate: number;
  result: StormResult;
  counters: Record<string, number>;
}

const rows: Row[] = [];
for (const mode of MODES) {
  const cluster = await startCluster(INSTANCES, {
    heartbeatMs: 15_000,
    sweepMs: 600_000,
    env: { ...SETTINGS[mode], REALTIME_MAX_SOCKETS_PER_USER: '10000', LOG_LEVEL: 'error' },
  });
  try {
    const base = cluster.instances[0]!.base;
    const admin = await signIn(base, ADMIN.username, ADMIN.password);
    await api(base, admin, 'POST', '/api/users', {
      username: 'stormer',
      password: 'a-long-bench-password',
      role: 'user',
    });
    const token = await signIn(base, 'stormer', 'a-long-bench-password');
    for (const rate of RATES) {
      const before = await tcpCounters();
      const result = await stormProcess({
        urls: cluster.instances.map((i) => i.wsBase),
        token,
        total: SESSIONS,
        rate,
        timeoutMs: 300_000,
      });
      const after = await tcpCounters();
      const counters = Object.fromEntries(
        Object.entries(after).map(([name, n]) => [name, n - (before[name] ?? 0)]),
      );
      rows.push({ mode, rate, result, counters });
      console.error(mode, rate, JSON.stringify(result), JSON.stringify(counters));
      await new Promise((r) => setTimeout(r, 3000)); // closes settle before the next run
    }
  } finally {
    await cluster.stop();
  }
}

const cell = (row: Row) => [
  row.mode === 'before' ? 'before (backlog 511, no admission)' : 'after (backlog 4096, admission)',
  row.rate > 0 ? `${row.rate}/s` : 'all at once',
  row.result.snapshot,
  `${row.result.refusedSockets} (${row.result.refusals})`,
  row.result.cut,
  Object.entries(row.result.endings)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ') || '–',
  row.result.stillOpening,
  `${row.result.p50Ms} / ${row.result.p99Ms}`,
  row.counters.TcpExtListenOverflows ?? '?',
  row.counters.TcpExtListenDrops ?? '?',
  row.counters.TcpEstabResets ?? '?',
];
console.log(`${new Date().toISOString()} — ${machine()}; somaxconn ${await somaxconn()}`);
console.log(`${SESSIONS} sockets over ${INSTANCES} instances, one user, heartbeat 15 s\n`);
console.log(
  '| server | opened | reached snapshot | refused 503 (answers) | cut | how the others ended | still opening | open p50 / p99 ms | ListenOverflows | ListenDrops | EstabResets |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(`| ${cell(row).join(' | ')} |`);

async function somaxconn() {
  const { readFile } = await import('node:fs/promises');
  return (await readFile('/proc/sys/net/core/somaxconn', 'utf8').catch(() => '?')).trim();
}
