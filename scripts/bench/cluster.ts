/**
 * `npm run bench:cluster`: capacity evidence for the scaled-out shape (issue 5). Three portal
 * processes (`src/main.ts`) behind one PostgreSQL database and one Redis; sessions spread across
 * them by load-generator processes (scripts/bench/cluster-worker.ts) that behave like the browser
 * client; a steady write load. Measures write-to-client latency against the number of sessions,
 * then kills one instance (SIGKILL, no drain) under the same write load and measures the
 * reconnect storm: how long until every dropped session is resumed and caught up, and whether
 * every session's document still matches the database. Writes its tables and a chart into
 * docs/benchmarks.md (section bench-cluster).
 *
 * The floor (issue 12, goal 2; scripts/bench/floor.ts): the same writes, relayed by the thinnest
 * path (NOTIFY → one relay process → Redis PUBLISH → one bare ws server per instance → ws.send) to
 * a second socket each session holds, measured in the same run; printed beside ours with the
 * ratio. Each step also reads every instance's /metrics (lib/probe.ts): event-loop delay, GC
 * pauses, the leader's batches, the heartbeats.
 *
 * Environment: BENCH_USERS (default 1000), BENCH_SESSIONS (default 600,1500,3000),
 * BENCH_RATE (writes/s, default 20), BENCH_SECONDS (per step, default 15), BENCH_INSTANCES (3),
 * BENCH_FLOOR (1; 0: no floor), BENCH_PG_URL, BENCH_REDIS_URL.
 */
import type { Report, Session } from './cluster-worker.ts';
import type { RealtimeBench } from './lib/bench.ts';
import { connect } from './lib/database.ts';
import { f0, row, sum, utcMinute } from './lib/format.ts';
import { HeldSessions, LoadGenerators } from './lib/generators.ts';
import { type Instance, isLeader, planPortal, REDIS_URL, startInstances } from './lib/instances.ts';
import { seedProbeOrganisation, signInAll } from './lib/organisation.ts';
import { Probe, type StepProbe } from './lib/probe.ts';
import { defer, finish, loadAtStart, loadNow, log, now, sleep, started } from './lib/run.ts';
import { StatusWriter, type Write } from './lib/writes.ts';
import { cpuMs, dropRedisPrefix, freePort, machine, pct, rssKb, spawnNode, writeSection } from './support.ts';

const USERS = Number(process.env.BENCH_USERS ?? 1000);
const STEPS = (process.env.BENCH_SESSIONS ?? '600,1500,3000').split(',').map(Number);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 3);
const FLOOR = process.env.BENCH_FLOOR !== '0';
const WORKERS = 2;
const PASSWORD = 'bench-password-2026';
const ADMIN = { username: 'chief', password: 'bench-cluster-password-2026' };

/** What every scenario works with; the status writer strides through the users, so one user is written at most once in a long while. */
interface Bench extends RealtimeBench<Report> {
  servers: Instance[];
  /** The floor's ws servers, one per instance (empty without the floor). */
  floors: string[];
  probe: Probe;
}

/** One floor process (scripts/bench/floor.ts), resolved once it is listening. */
async function startFloor(env: Record<string, string>) {
  const child = spawnNode(['scripts/bench/floor.ts'], env, true);
  defer(() => child.exitCode === null && child.kill('SIGKILL'));
  await new Promise((r) => child.once('message', r));
  return child;
}

// --- Set-up: the instances, the data, the load generators ------------------------------------------------
async function setUp(): Promise<Bench> {
  const fresh = await planPortal('cluster', ADMIN, { SESSION_TTL_SECONDS: '300' });
  const { redisPrefix } = fresh;
  const servers = await startInstances(fresh.env, INSTANCES);
  log(`${INSTANCES} instances: ${servers.map((s) => s.base).join(', ')}`);
  const { database, writer } = await connect(fresh.url, 16);
  const floors: string[] = [];
  if (FLOOR) {
    const shared = { FLOOR_PG_URL: fresh.url, FLOOR_REDIS_URL: REDIS_URL, FLOOR_PREFIX: redisPrefix };
    await startFloor({ ...shared, FLOOR_ROLE: 'relay' });
    for (let i = 0; i < INSTANCES; i++) {
      const port = await freePort();
      await startFloor({ ...shared, FLOOR_ROLE: 'instance', FLOOR_PORT: String(port) });
      floors.push(`ws://127.0.0.1:${port}`);
    }
    log(`floor: a relay and ${INSTANCES} ws servers (${floors.join(', ')})`);
  }

  log(`seeding ${USERS} users with one task each…`);
  const org = await seedProbeOrganisation(database, writer, {
    users: USERS,
    prefix: 'c',
    password: PASSWORD,
  });

  log('signing in (spread over the instances)…');
  const tokens = await signInAll(
    org.plain.map((u) => ({ ...u, password: PASSWORD })),
    (i) => servers[i % servers.length]!.base,
  );
  const generators = await LoadGenerators.start<Report>('scripts/bench/cluster-worker.ts', WORKERS);
  return {
    servers,
    floors,
    probe: new Probe(servers),
    redisPrefix,
    writer,
    org,
    tokens,
    generators,
    sessions: new HeldSessions(),
    statusWriter: new StatusWriter(
      writer,
      org.taskOf,
      org.plain.map((u) => u.id),
      7919,
    ),
  };
}

const mark = (b: Bench) => b.generators.all({ cmd: 'mark' });

/** Latency of each (user, status) delivery against the write that produced it. */
function latencies(b: Bench, writes: Write[], reports: Report[], path: 'ours' | 'floor' = 'ours') {
  const sentAt = new Map<string, number>();
  for (const w of writes) sentAt.set(`${w.user}:${w.status}`, w.sent);
  const values: number[] = [];
  for (const r of reports) {
    const deliveries = path === 'ours' ? r.deliveries : r.floorDeliveries;
    for (let i = 0; i < deliveries.length; i += 3) {
      const at = sentAt.get(`${deliveries[i]}:${deliveries[i + 1]}`);
      if (at !== undefined) values.push(deliveries[i + 2]! - at);
    }
  }
  return { values, expected: b.sessions.expected(writes) };
}

// --- 1. Latency against sessions, with a steady write load --------------------------------------------
async function latencyAgainstSessions(b: Bench) {
  const instances = b.servers.map((s) => s.wsBase);
  const steps: {
    sessions: number;
    failed: number;
    rssMb: number[];
    p50: number;
    p95: number;
    p99: number;
    max: number;
    delivered: number;
    expected: number;
    writes: number;
    floor: { p50: number; p95: number; p99: number; max: number; delivered: number };
    probes: StepProbe[];
    load: string[];
  }[] = [];
  for (const target of STEPS) {
    const fresh = b.sessions.plan(
      target,
      b.org.plain,
      (user): Session => ({ user, token: b.tokens.get(user)! }),
    );
    const first = b.sessions.held;
    const { opened, failed } = await b.generators.open(fresh, (sessions, offset) => ({
      cmd: 'open',
      instances,
      floors: b.floors,
      sessions,
      first: first + offset,
    }));
    b.sessions.held += opened;
    await sleep(2000);
    await mark(b);
    log(`holding ${b.sessions.held} sessions; ${RATE} writes/s for ${SECONDS} s…`);
    await b.probe.begin();
    const load = b.statusWriter.start(RATE);
    await sleep(SECONDS * 1000);
    await load.stop();
    const probes = await b.probe.end();
    const loadAfter = loadNow();
    await sleep(3000);
    const reports = await b.generators.report();
    const { values, expected } = latencies(b, load.writes, reports);
    const floor = latencies(b, load.writes, reports, 'floor').values;
    steps.push({
      sessions: b.sessions.held,
      failed,
      rssMb: b.servers.map((s) => rssKb(s.pid) / 1024),
      p50: pct(values, 50),
      p95: pct(values, 95),
      p99: pct(values, 99),
      max: Math.max(...values),
      delivered: values.length,
      expected,
      writes: load.writes.length,
      floor: {
        p50: pct(floor, 50),
        p95: pct(floor, 95),
        p99: pct(floor, 99),
        max: Math.max(...floor),
        delivered: floor.length,
      },
      probes,
      load: loadAfter,
    });
    log(
      `  ours p50 ${f0(pct(values, 50))} / p95 ${f0(pct(values, 95))} / p99 ${f0(pct(values, 99))} ms, ${values.length}/${expected} delivered; floor p50 ${f0(pct(floor, 50))} / p95 ${f0(pct(floor, 95))} / p99 ${f0(pct(floor, 99))} ms, ${floor.length} delivered; load ${loadAfter.join(' / ')}`,
    );
    for (const [i, p] of probes.entries())
      log(
        `  instance ${i}: loop delay p99 ${f0(p.loopP99)} max ${f0(p.loopMax)} ms; GC ${p.gcCount} pauses ${f0(p.gcMs)} ms (${p.gcOver10ms} ≥ 10 ms, ${p.majorGc} major); batches ${p.batches} (${f0(p.batchMs)} ms, ${p.batchesOver100ms} > 100 ms, ${p.changes} changes); beats ${p.beats} (${f0(p.beatMs)} ms, ${p.beatsOver50ms} > 50 ms)`,
      );
  }
  return steps;
}

// --- 2. Reconnect storm: kill one instance under the same write load ------------------------------------
async function reconnectStorm(b: Bench) {
  // The floor is not measured in the storm: its sockets would only load the load generators.
  await b.generators.all({ cmd: 'closeFloor' });
  const leaders = await Promise.all(b.servers.map(isLeader));
  const victim = 0;
  await mark(b);
  const markedAt = now();
  const load = b.statusWriter.start(RATE);
  await sleep(2000);
  log(`killing instance ${victim} (${leaders[victim] ? 'the leader' : 'a follower'}) with SIGKILL…`);
  const survivors = b.servers.filter((_, i) => i !== victim);
  const cpuBefore = survivors.map((s) => cpuMs(s.pid));
  const workersCpuBefore = b.generators.cpuMs();
  const survivorProbe = new Probe(survivors);
  await survivorProbe.begin();
  const killedAt = now();
  b.servers[victim]!.child.kill('SIGKILL');
  let reports: Report[] = [];
  let recoveredAll = Number.NaN;
  for (let waited = 0; waited < 60_000; waited += 250) {
    await sleep(250);
    reports = await b.generators.report();
    const dropped = sum(reports, (r) => r.dropped);
    const recovered = sum(reports, (r) => r.recovered.length);
    if (dropped > 0 && recovered >= dropped && reports.every((r) => r.open === r.states.length)) {
      recoveredAll = now() - killedAt;
      break;
    }
  }
  const stormCpu = survivors.map((s, i) => cpuMs(s.pid) - cpuBefore[i]!);
  for (const [i, p] of (await survivorProbe.end()).entries())
    log(
      `storm, survivor ${i}: loop delay p99 ${f0(p.loopP99)} max ${f0(p.loopMax)} ms; GC ${f0(p.gcMs)} ms; batches ${p.batches} (${f0(p.batchMs)} ms)`,
    );
  const workersCpu = b.generators.cpuMs() - workersCpuBefore;
  await sleep(3000);
  await load.stop();
  const stoppedAt = now();
  const truth = new Map(
    (
      await b.writer.query<{ assignee_id: number; status: string }>('select assignee_id, status from tasks')
    ).rows.map((t) => [t.assignee_id, t.status]),
  );
  // Lag is not loss: a leader behind its backlog delivers the last writes late. Wait (up to 60 s)
  // until every document matches the database, and say how long that took.
  let converged = Number.NaN;
  for (let waited = 0; waited < 60_000; waited += 500) {
    await sleep(500);
    reports = await b.generators.report();
    if (reports.every((r) => r.states.every(([user, status]) => truth.get(user) === status))) {
      converged = now() - stoppedAt;
      break;
    }
  }
  const states = reports.flatMap((r) => r.states);
  const phases = reports.flatMap((r) => r.phases);
  const phase = (k: 'waited' | 'upgrade' | 'resume') =>
    [50, 95, 100]
      .map((p) =>
        f0(
          pct(
            phases.map((x) => x[k]),
            p,
          ),
        ),
      )
      .join(' / ');
  const phaseLine = `backoff waited ${phase('waited')}; attempt → socket open ${phase('upgrade')}; socket open → caught up ${phase('resume')}`;
  log(`storm phases p50 / p95 / max ms: ${phaseLine}`);
  log(`storm: every document matched the database ${f0(converged)} ms after the writes stopped`);
  const codes: Record<string, number> = {};
  for (const r of reports) for (const [c, n] of Object.entries(r.codes)) codes[c] = (codes[c] ?? 0) + n;
  const storm = {
    victim,
    victimLed: leaders[victim],
    stormCpu,
    workersCpu,
    recoveredAll,
    // Workers time recoveries from their mark; the kill came a little later.
    recoveredMs: reports.flatMap((r) => r.recovered).map((ms) => ms - (killedAt - markedAt)),
    dropped: sum(reports, (r) => r.dropped),
    notResumed: sum(reports, (r) => r.notResumed),
    gaps: sum(reports, (r) => r.gaps),
    latency: latencies(b, load.writes, reports),
    states,
    wrong: states.filter(([user, status]) => truth.get(user) !== status).length,
    phaseLine,
    converged,
    open: sum(reports, (r) => r.open),
  };
  log(
    `storm: close codes ${JSON.stringify(codes)}, ${sum(reports, (r) => r.failedAttempts)} failed attempts`,
  );
  log(
    `storm: CPU of the surviving instances ${stormCpu.map(f0).join(' / ')} ms, load generators ${f0(workersCpu)} ms`,
  );
  log(
    `storm: ${storm.dropped} dropped, all back after ${f0(recoveredAll)} ms; ${storm.wrong} documents differ from the database`,
  );
  return storm;
}

// --- The scenarios in order ------------------------------------------------------------------------------
async function main() {
  const b = await setUp();
  const steps = await latencyAgainstSessions(b);
  const storm = await reconnectStorm(b);
  const markdown = report(steps, storm);
  console.log(markdown);
  writeSection('bench-cluster', markdown);
  b.generators.close();
  await dropRedisPrefix(REDIS_URL, b.redisPrefix);
}

function report(
  steps: Awaited<ReturnType<typeof latencyAgainstSessions>>,
  storm: Awaited<ReturnType<typeof reconnectStorm>>,
): string {
  const { victim, stormCpu, workersCpu, recoveredAll, recoveredMs, dropped, notResumed, gaps } = storm;
  const { states, wrong, open } = storm;
  const stormLatency = storm.latency;
  const chartMax = Math.ceil(Math.max(...steps.map((s) => s.p99), 1) / 50) * 50;
  const lines = [
    `Run ${utcMinute(started)} UTC with \`npm run bench:cluster\` on ${machine()}; load average at start ${loadAtStart.join(' / ')}.`,
    `${INSTANCES} portal processes (src/main.ts) + PostgreSQL 15 + Redis 7 + ${WORKERS} load-generator processes, all on this one machine. ${USERS} users, one task each; sessions spread round-robin over the instances; ${RATE} writes/s (\`UPDATE tasks\` from a separate pool, clock started before the statement is sent) for ${SECONDS} s per step. Latency = write sent → delta received by the client.`,
    '',
    row([
      'sessions',
      'failed to open',
      'writes',
      'deliveries (got / expected)',
      'ours p50 / p95 / p99 / max ms',
      'floor p50 / p95 / p99 / max ms',
      'ours ÷ floor p50 / p99',
      'load average after the step',
      'RSS per instance MB',
    ]),
    row(['---:', '---:', '---:', '---:', '---', '---', '---', '---', '---']),
    ...steps.map((s) =>
      row([
        f0(s.sessions),
        s.failed,
        s.writes,
        `${f0(s.delivered)} / ${f0(s.expected)}`,
        [s.p50, s.p95, s.p99, s.max].map(f0).join(' / '),
        FLOOR ? [s.floor.p50, s.floor.p95, s.floor.p99, s.floor.max].map(f0).join(' / ') : '(no floor)',
        FLOOR ? `${(s.p50 / s.floor.p50).toFixed(2)} / ${(s.p99 / s.floor.p99).toFixed(2)}` : '',
        s.load.join(' / '),
        s.rssMb.map((m) => f0(m)).join(' / '),
      ]),
    ),
    '',
    FLOOR
      ? `The floor (scripts/bench/floor.ts) relays the same writes in the same run by the thinnest path: NOTIFY → one relay process (one SELECT of the new change_log rows per wake-up) → Redis PUBLISH per affected user → one bare \`ws\` server per instance (SUBSCRIBE per user, \`ws.send\` as is) → a second socket each session holds on the floor server with the same index. Floor deliveries counted: ${steps.map((s) => f0(s.floor.delivered)).join(', ')}.`
      : '',
    '',
    "Where the time went in each step, per instance (from /metrics, lib/probe.ts): event-loop delay p99 / max (sampled every 10 ms, the 10 ms included), GC pauses, the leader's batches, the heartbeat slices.",
    '',
    row([
      'sessions',
      'instance',
      'loop delay p99 / max ms',
      'GC pauses (≥ 10 ms, major) / total ms',
      'batches (> 100 ms) / total ms / changes',
      'heartbeat slices (> 50 ms) / total ms',
    ]),
    row(['---:', '---:', '---', '---', '---', '---']),
    ...steps.flatMap((s) =>
      s.probes.map((p, i) =>
        row([
          f0(s.sessions),
          i,
          `${f0(p.loopP99)} / ${f0(p.loopMax)}`,
          `${p.gcCount} (${p.gcOver10ms}, ${p.majorGc}) / ${f0(p.gcMs)}`,
          `${p.batches} (${p.batchesOver100ms}) / ${f0(p.batchMs)} / ${p.changes}`,
          `${p.beats} (${p.beatsOver50ms}) / ${f0(p.beatMs)}`,
        ]),
      ),
    ),
    '',
    '```mermaid',
    'xychart-beta',
    '  title "Write-to-client latency against sessions (3 instances)"',
    `  x-axis "sessions" [${steps.map((s) => s.sessions).join(', ')}]`,
    `  y-axis "ms" 0 --> ${chartMax}`,
    `  line [${steps.map((s) => Math.round(s.p50)).join(', ')}]`,
    `  line [${steps.map((s) => Math.round(s.p99)).join(', ')}]`,
    '```',
    '',
    '(lower line p50, upper line p99)',
    '',
    `**Reconnect storm.** With ${f0(open)} sessions open and ${RATE} writes/s continuing, instance ${victim} (${storm.victimLed ? 'the realtime leader' : 'a follower'}) was killed with SIGKILL (no drain). The clients reconnect like the browser client behind a load balancer: after a backoff with full jitter (250 ms doubling to 5 s), to another instance picked at random, resuming with session id and last seq. CPU spent during the storm: surviving instances ${stormCpu.map((ms) => `${f0(ms)} ms`).join(' and ')}, load generators ${f0(workersCpu)} ms.`,
    '',
    row([
      'sessions dropped',
      'every one resumed and caught up after',
      'p50 / p95 / p99 / max per session ms',
      'resumes answered resumed:false',
      'seq gaps',
      'deltas during the storm (got / expected)',
      'documents ≠ database at the end',
      'open at the end',
    ]),
    row(['---:', '---:', '---', '---:', '---:', '---:', '---:', '---:']),
    row([
      f0(dropped),
      `${f0(recoveredAll)} ms`,
      [50, 95, 99, 100].map((p) => f0(pct(recoveredMs, p))).join(' / '),
      notResumed,
      gaps,
      `${f0(stormLatency.values.length)} / ${f0(stormLatency.expected)}`,
      `${wrong} of ${f0(states.length)}`,
      f0(open),
    ]),
    '',
    `Where a recovered session's time went, p50 / p95 / max ms: ${storm.phaseLine}. Every session's document matched the database ${f0(storm.converged)} ms after the writes stopped (NaN: not within 60 s).`,
    '',
    'Deliveries during the storm count what reached a session live or through its replay on resume; a delta replayed from history carries the same (user, status) and counts once per session. "Documents ≠ database" compares, for every session, the status its own merge-patched document shows with the task in PostgreSQL after the writes stopped: 0 means nothing was lost.',
  ];
  return lines.join('\n');
}

await finish(main);
