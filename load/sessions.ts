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
import { pickUsernames, type Role, readUsersFile } from './lib/api.ts';
import { envBool, envInt, envNumber, envString, PASSWORD, USERS_FILE } from './lib/config.ts';
import { checkConvergence, Fleet } from './lib/realtime.ts';
import { runWriter } from './lib/writer.ts';

const USERS = envInt('USERS', 1000);
const TABS = envInt('TABS', 2);
const USERS_PER_VU = Math.max(1, envInt('USERS_PER_VU', 25));
const USER_ROLE = envString('USER_ROLE', 'user') as Role;
const RAMP = envNumber('RAMP', 60);
const HOLD = envNumber('HOLD', 300);
const SETTLE = envNumber('SETTLE', 10);
const DROP_PER_MIN = envNumber('DROP_PER_MIN', 0.2);
const RESUME_DELAY_MS = envNumber('RESUME_DELAY_MS', 1000);
const READY_TIMEOUT_MS = envNumber('READY_TIMEOUT_MS', 10_000);
const WRITERS = envInt('WRITERS', 10);
const WRITER_TABS = Math.max(1, envInt('WRITER_TABS', 2));
const WRITE_INTERVAL_MS = envNumber('WRITE_INTERVAL_MS', 1000);
const DELTA_TIMEOUT_MS = envNumber('DELTA_TIMEOUT_MS', 5000);
const CHECK_CONVERGENCE = envBool('CHECK_CONVERGENCE', true);

const FILE_USERS = USERS_FILE ? readUsersFile(USERS_FILE) : [];

const writerThresholds: Record<string, string[]> =
  WRITERS > 0
    ? {
        rt_delta_latency: [
          `p(95)<${envNumber('DELTA_P95_MS', 500)}`,
          `p(99)<${envNumber('DELTA_P99_MS', 1000)}`,
        ],
        rt_delta_delivered: ['rate>0.99'],
        rt_write_ok: ['rate>0.99'],
      }
    : {};

export const options: Options = {
  setupTimeout: '300s',
  // Trend percentiles in the end-of-test summary.
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'],
  scenarios: {
    watchers: {
      executor: 'per-vu-iterations',
      exec: 'watchers',
      vus: Math.max(1, Math.ceil(USERS / USERS_PER_VU)),
      iterations: 1,
      maxDuration: `${Math.ceil(RAMP + HOLD + 120)}s`,
      gracefulStop: '30s',
    },
    ...(WRITERS > 0
      ? {
          writers: {
            executor: 'per-vu-iterations' as const,
            exec: 'writers',
            vus: WRITERS,
            iterations: 1,
            startTime: `${Math.ceil(RAMP)}s`,
            maxDuration: `${Math.ceil(HOLD + 120)}s`,
            gracefulStop: '30s',
          },
        }
      : {}),
  },
  thresholds: {
    rt_signed_in: ['rate>0.99'],
    rt_session_opened: ['rate>0.99'],
    rt_session_ready: [`p(95)<${envNumber('READY_P95_MS', 2000)}`],
    rt_resumed: ['rate>0.99'],
    rt_resume_time: [`p(95)<${envNumber('RESUME_P95_MS', 1000)}`],
    rt_seq_gaps: ['count==0'],
    rt_protocol_errors: ['count==0'],
    rt_unexpected_close: ['rate<0.01'],
    ...(CHECK_CONVERGENCE ? { rt_doc_converged: ['rate>0.999'] } : {}),
    ...writerThresholds,
    http_req_failed: ['rate<0.01'],
  },
};

interface SetupData {
  usernames: string[];
}

export function setup(): SetupData {
  return { usernames: pickUsernames(USERS, USER_ROLE, FILE_USERS) };
}

/** One VU: USERS_PER_VU accounts × TABS sockets, for the whole test. */
export function watchers(data: SetupData): void {
  const index = exec.scenario.iterationInTest;
  const mine = data.usernames.slice(index * USERS_PER_VU, (index + 1) * USERS_PER_VU);
  if (mine.length === 0) return;
  const start = exec.scenario.startTime;
  const fleet = new Fleet({
    usernames: mine,
    password: PASSWORD,
    tabsPerUser: TABS,
    startAt: start,
    rampMs: RAMP * 1000,
    firstIndex: index * USERS_PER_VU * TABS,
    totalSockets: data.usernames.length * TABS,
    keepDoc: CHECK_CONVERGENCE,
    readyTimeoutMs: READY_TIMEOUT_MS,
  });
  fleet.start();

  const dropper =
    DROP_PER_MIN > 0
      ? setInterval(() => {
          for (const tab of fleet.tabs) {
            if (tab.live && Math.random() < DROP_PER_MIN / 60) tab.drop(Math.random() * RESUME_DELAY_MS);
          }
        }, 1000)
      : undefined;
  // No drops in the last SETTLE seconds, so that every session is live when the documents are compared.
  setTimeout(
    () => {
      if (dropper !== undefined) clearInterval(dropper);
    },
    start + (RAMP + HOLD - SETTLE) * 1000 - Date.now(),
  );
  setTimeout(
    () => {
      if (CHECK_CONVERGENCE) checkConvergence(fleet.users);
      fleet.stop();
    },
    start + (RAMP + HOLD) * 1000 - Date.now(),
  );
}

/** One VU: one account writing and listening on its own sockets until SETTLE seconds before the end. */
export async function writers(data: SetupData): Promise<void> {
  const index = exec.scenario.iterationInTest;
  const stride = Math.max(1, Math.floor(data.usernames.length / WRITERS));
  const username = data.usernames[(index * stride) % data.usernames.length];
  if (username === undefined || index >= data.usernames.length) return; // fewer accounts than writers
  await runWriter({
    username,
    password: PASSWORD,
    tabs: WRITER_TABS,
    intervalMs: WRITE_INTERVAL_MS,
    until: exec.scenario.startTime + (HOLD - 2 * SETTLE) * 1000,
    deltaTimeoutMs: DELTA_TIMEOUT_MS,
    readyTimeoutMs: READY_TIMEOUT_MS,
    settleMs: SETTLE * 1000,
  });
}
