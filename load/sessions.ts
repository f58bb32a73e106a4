/**
 * Thousands of realtime sessions: sign in, connect `/ws`, hold, drop and resume, and measure how
 * fast a write reaches the sockets of the user it concerns.
 *
 *   k6 run -e BASE_URL=http://localhost:3000 -e ADMIN_PASSWORD=… load/sessions.ts
 *
 * Scenarios
 * - `watchers`: USERS accounts × TABS sessions each, opened at an even pace over RAMP seconds by
 *   ceil(USERS / USERS_PER_VU) virtual users (one VU holds many sockets: `k6/websockets`). Each
 *   session waits for hello + snapshot, then holds; every second each live socket is dropped with
 *   probability DROP_PER_MIN / 60 and resumed after up to RESUME_DELAY_MS with its session_id and
 *   last_seq. Every frame is checked: hello first, `resumed: true` on a resume, and no seq gap.
 *   The document (snapshot + merge patches) is kept and, SETTLE seconds after the last write,
 *   compared with GET /api/metrics.
 * - `writers` (from RAMP on): WRITERS accounts, spread over the watched ones, each with WRITER_TABS
 *   sessions of its own, move one of their tasks between todo and in_progress every
 *   WRITE_INTERVAL_MS; `rt_delta_latency` is from just before the PATCH to the delta arriving on
 *   each of the writer's own sockets (see lib/writer.ts). The watchers of those accounts receive
 *   the same deltas, so drops and resumes are checked against real traffic.
 *
 * Environment (defaults in brackets)
 *   BASE_URL [http://localhost:3000]  WS_URL [BASE_URL with ws(s)://, + /ws]
 *   ADMIN_USERNAME [admin] ADMIN_PASSWORD  an admin or manager, to list the accounts to use
 *   USER_QUERY []        only usernames containing this (the prefix `npm run seed` printed)
 *   USERS_FILE []        or: a file with one username per line (then no admin is needed)
 *   USER_ROLE [user]     role of the accounts listed
 *   PASSWORD [bench-password-2026]  their password (demo data: demo-password-2026)
 *   USERS [1000] TABS [2] USERS_PER_VU [25]   sessions = USERS × TABS
 *   RAMP [60] HOLD [300] SETTLE [10]          seconds
 *   DROP_PER_MIN [0.2] RESUME_DELAY_MS [1000] READY_TIMEOUT_MS [10000]
 *   WRITERS [10] WRITER_TABS [2] WRITE_INTERVAL_MS [1000] DELTA_TIMEOUT_MS [5000]
 *   CHECK_CONVERGENCE [1]
 *   Thresholds: DELTA_P95_MS [500] DELTA_P99_MS [1000] READY_P95_MS [2000] RESUME_P95_MS [1000]
 */
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { clearInterval, setInterval, setTimeout } from 'k6/timers';
import { envNumber } from './lib/config.ts';
import { SessionTest, type SetupData } from './lib/session-test.ts';

const HOLD = envNumber('HOLD', 300);
const DROP_PER_MIN = envNumber('DROP_PER_MIN', 0.2);
const RESUME_DELAY_MS = envNumber('RESUME_DELAY_MS', 1000);

const test = new SessionTest(
  { writers: 10, writerTabs: 2, writeIntervalMs: 1000, deltaTimeoutMs: 5000 },
  HOLD,
);

export const options: Options = test.options({
  ...test.baseThresholds(),
  rt_session_ready: [`p(95)<${envNumber('READY_P95_MS', 2000)}`],
  rt_resumed: ['rate>0.99'],
  rt_resume_time: [`p(95)<${envNumber('RESUME_P95_MS', 1000)}`],
  rt_unexpected_close: ['rate<0.01'],
  ...(test.writers > 0
    ? {
        rt_delta_latency: [
          `p(95)<${envNumber('DELTA_P95_MS', 500)}`,
          `p(99)<${envNumber('DELTA_P99_MS', 1000)}`,
        ],
        rt_write_ok: ['rate>0.99'],
      }
    : {}),
});

export const setup = (): SetupData => test.setup();

/** One VU: USERS_PER_VU accounts × TABS sockets, for the whole test, each dropped now and then. */
export function watchers(data: SetupData): void {
  const fleet = test.watch(data);
  if (!fleet || DROP_PER_MIN <= 0) return;
  const dropper = setInterval(() => {
    for (const tab of fleet.tabs) {
      if (tab.live && Math.random() < DROP_PER_MIN / 60) tab.drop(Math.random() * RESUME_DELAY_MS);
    }
  }, 1000);
  // No drops in the last SETTLE seconds, so that every session is live when the documents are compared.
  setTimeout(
    () => clearInterval(dropper),
    exec.scenario.startTime + (test.endAt - test.settle) * 1000 - Date.now(),
  );
}

/** One VU: one account writing and listening on its own sockets until SETTLE seconds before the end. */
export const writers = (data: SetupData): Promise<void> => test.write(data);
