/**
 * Reconnect storm: many sessions connected, then dropped at once and resumed; measures how long
 * until every session is resumed, and that nothing was lost (no seq gap, documents converge).
 *
 *   k6 run -e BASE_URL=http://localhost:3000 -e ADMIN_PASSWORD=… load/reconnect-storm.ts
 *
 * Timeline: the sessions open over RAMP seconds, hold BEFORE seconds, then at one instant every VU
 * drops STORM_FRACTION of its sockets; each resumes (session_id + last_seq) after a random delay
 * of up to STORM_SPREAD_MS (0: all at once, the worst case). WRITERS keep writing throughout, so
 * the resumes must replay the deltas missed while disconnected. AFTER seconds after the storm the
 * documents are compared with GET /api/metrics and the test ends.
 *
 * Server-side storms: with STORM_FRACTION=0 nothing is dropped by the client; kill or redeploy an
 * instance during the hold instead (`fly machine restart <id>`, or kill one of the local
 * instances). Every socket the server or the network closes counts as lost at that moment and is
 * resumed like the portal's own client does; the same storm_* metrics measure it.
 *
 * Metrics
 *   storm_time_to_resumed  per lost socket: from the drop (or the close) to `hello` with resumed:
 *                          true. Its max is the time until every session was resumed.
 *   storm_resumed          share of lost sockets resumed into their own session before the end
 *   storm_sockets_lost     how many sockets the storm dropped (or the server closed)
 *   plus every rt_* metric of sessions.ts (seq gaps, convergence, delta latency).
 *
 * Environment (defaults in brackets)
 *   BASE_URL, WS_URL, ADMIN_USERNAME, ADMIN_PASSWORD, USER_QUERY, USERS_FILE, USER_ROLE, PASSWORD:
 *                        as in sessions.ts
 *   USERS [1000] TABS [2] USERS_PER_VU [25]   sessions = USERS × TABS
 *   RAMP [60] BEFORE [15] AFTER [60] SETTLE [10]   seconds
 *   STORM_FRACTION [1] STORM_SPREAD_MS [0] READY_TIMEOUT_MS [10000]
 *   WRITERS [5] WRITER_TABS [1] WRITE_INTERVAL_MS [500] DELTA_TIMEOUT_MS [30000]
 *   CHECK_CONVERGENCE [1]
 *   Thresholds: STORM_MAX_MS [30000] STORM_P95_MS [10000] STORM_MIN_RESUMED [1]
 *               DELTA_P99_MS [5000] (a write landing mid-storm waits for its socket's resume)
 */
import exec from 'k6/execution';
import { Counter, Rate, Trend } from 'k6/metrics';
import type { Options } from 'k6/options';
import { setTimeout } from 'k6/timers';
import { envNumber } from './lib/config.ts';
import type { Tab } from './lib/realtime.ts';
import { SessionTest, type SetupData } from './lib/session-test.ts';

const BEFORE = envNumber('BEFORE', 15);
const AFTER = envNumber('AFTER', 60);
const STORM_FRACTION = Math.min(1, envNumber('STORM_FRACTION', 1));
const STORM_SPREAD_MS = envNumber('STORM_SPREAD_MS', 0);

const test = new SessionTest(
  { writers: 5, writerTabs: 1, writeIntervalMs: 500, deltaTimeoutMs: 30_000 },
  BEFORE + AFTER,
);
/** Seconds from the start of the test to the storm. */
const STORM_AT = test.ramp + BEFORE;

const storm = {
  timeToResumed: new Trend('storm_time_to_resumed', true),
  resumed: new Rate('storm_resumed'),
  lost: new Counter('storm_sockets_lost'),
};

export const options: Options = test.options({
  ...test.baseThresholds(),
  storm_time_to_resumed: [
    `max<${envNumber('STORM_MAX_MS', 30_000)}`,
    `p(95)<${envNumber('STORM_P95_MS', 10_000)}`,
  ],
  storm_resumed: [`rate>=${envNumber('STORM_MIN_RESUMED', 1)}`],
  // A storm that never happened (sessions still opening, say) must not pass.
  ...(STORM_FRACTION > 0 ? { storm_sockets_lost: ['count>0'] } : {}),
  ...(test.writers > 0 ? { rt_delta_latency: [`p(99)<${envNumber('DELTA_P99_MS', 5000)}`] } : {}),
});

export const setup = (): SetupData => test.setup();

export function watchers(data: SetupData): void {
  const start = exec.scenario.startTime;
  const stormAt = start + STORM_AT * 1000;

  /** Lost sockets: when they were lost, and whether they have been resumed into their session since. */
  const lost = new Map<Tab, { at: number; resumed: boolean }>();
  const lose = (tab: Tab, at: number) => {
    const entry = lost.get(tab);
    if (entry && !entry.resumed) return; // still resuming from an earlier loss: keep the first time
    lost.set(tab, { at, resumed: false });
    storm.lost.add(1);
  };

  const fleet = test.watch(data, {
    onLost: (tab, at) => {
      if (at >= start + test.ramp * 1000) lose(tab, at);
    },
    onHello: (tab, resumed, at) => {
      const entry = lost.get(tab);
      if (!entry || entry.resumed) return;
      if (resumed) {
        entry.resumed = true;
        storm.timeToResumed.add(at - entry.at);
        storm.resumed.add(true);
      } else {
        // The session was gone (a new one was opened): counted now, not resumed.
        lost.delete(tab);
        storm.resumed.add(false);
      }
    },
    beforeEnd: () => {
      for (const entry of lost.values()) if (!entry.resumed) storm.resumed.add(false);
    },
  });
  if (!fleet || STORM_FRACTION <= 0) return;

  setTimeout(() => {
    const live = fleet.tabs.filter((t) => t.live);
    const notLive = fleet.tabs.length - live.length;
    if (notLive > 0) console.warn(`storm: ${notLive} of ${fleet.tabs.length} sockets were not live`);
    for (const tab of live) {
      if (Math.random() >= STORM_FRACTION) continue;
      if (tab.drop(Math.random() * STORM_SPREAD_MS)) lose(tab, stormAt);
    }
  }, stormAt - Date.now());
}

export const writers = (data: SetupData): Promise<void> => test.write(data);
