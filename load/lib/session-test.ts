/**
 * What every realtime load script (sessions.ts, reconnect-storm.ts) shares: the environment for
 * the accounts, the sessions and the writers, the two k6 scenarios (`watchers` holding the
 * sessions, `writers` from RAMP on), the thresholds every run must meet, and the set-up that
 * picks the accounts. A script adds what it does to the sessions while they are held.
 *
 * Environment read here (defaults in brackets; a script gives its own writer defaults)
 *   USER_QUERY, USERS_FILE, PASSWORD (lib/config.ts)
 *   USER_ROLE [user] USERS [1000] TABS [2] USERS_PER_VU [25]   sessions = USERS × TABS
 *   RAMP [60] SETTLE [10]   seconds
 *   READY_TIMEOUT_MS [10000] CHECK_CONVERGENCE [1]
 *   WRITERS WRITER_TABS WRITE_INTERVAL_MS DELTA_TIMEOUT_MS
 */
import exec from 'k6/execution';
import type { Options } from 'k6/options';
import { setTimeout } from 'k6/timers';
import { pickUsernames, type Role, readUsersFile } from './api.ts';
import {
  envBool,
  envInt,
  envNumber,
  envString,
  PASSWORD,
  SUMMARY_TREND_STATS,
  USERS_FILE,
} from './config.ts';
import { checkConvergence, Fleet, type FleetOptions } from './realtime.ts';
import { runWriter } from './writer.ts';

export interface SetupData {
  usernames: string[];
}

export interface WriterDefaults {
  writers: number;
  writerTabs: number;
  writeIntervalMs: number;
  deltaTimeoutMs: number;
}

export class SessionTest {
  readonly users = envInt('USERS', 1000);
  readonly tabs = envInt('TABS', 2);
  readonly usersPerVu = Math.max(1, envInt('USERS_PER_VU', 25));
  readonly role = envString('USER_ROLE', 'user') as Role;
  /** Seconds over which the sessions open; the writers start after it. */
  readonly ramp = envNumber('RAMP', 60);
  readonly settle = envNumber('SETTLE', 10);
  readonly readyTimeoutMs = envNumber('READY_TIMEOUT_MS', 10_000);
  readonly checkConvergence = envBool('CHECK_CONVERGENCE', true);
  readonly writers: number;
  readonly writerTabs: number;
  readonly writeIntervalMs: number;
  readonly deltaTimeoutMs: number;
  /** USERS_FILE, read in the init context as k6 requires. */
  private readonly fileUsers = USERS_FILE ? readUsersFile(USERS_FILE) : [];

  /** Seconds from the start of the test at which the sessions close and the test ends. */
  readonly endAt: number;

  /** @param hold seconds the sessions are held after RAMP. */
  constructor(defaults: WriterDefaults, hold: number) {
    this.endAt = this.ramp + hold;
    this.writers = envInt('WRITERS', defaults.writers);
    this.writerTabs = Math.max(1, envInt('WRITER_TABS', defaults.writerTabs));
    this.writeIntervalMs = envNumber('WRITE_INTERVAL_MS', defaults.writeIntervalMs);
    this.deltaTimeoutMs = envNumber('DELTA_TIMEOUT_MS', defaults.deltaTimeoutMs);
  }

  /**
   * Thresholds every session test must meet: sign-ins and new sessions succeed, no seq gap, no
   * protocol error, few failed requests; the documents converge and the writers' deltas arrive
   * when those are measured.
   */
  baseThresholds(): Record<string, string[]> {
    return {
      rt_signed_in: ['rate>0.99'],
      rt_session_opened: ['rate>0.99'],
      rt_seq_gaps: ['count==0'],
      rt_protocol_errors: ['count==0'],
      http_req_failed: ['rate<0.01'],
      ...(this.checkConvergence ? { rt_doc_converged: ['rate>0.999'] } : {}),
      ...(this.writers > 0 ? { rt_delta_delivered: ['rate>0.99'] } : {}),
    };
  }

  /** The k6 options: `watchers` (one iteration per VU for the whole test) and `writers`. */
  options(thresholds: Record<string, string[]>): Options {
    const { endAt } = this;
    return {
      setupTimeout: '300s',
      // Trend percentiles in the end-of-test summary.
      summaryTrendStats: SUMMARY_TREND_STATS,
      scenarios: {
        watchers: {
          executor: 'per-vu-iterations',
          exec: 'watchers',
          vus: Math.max(1, Math.ceil(this.users / this.usersPerVu)),
          iterations: 1,
          maxDuration: `${Math.ceil(endAt + 120)}s`,
          gracefulStop: '30s',
        },
        ...(this.writers > 0
          ? {
              writers: {
                executor: 'per-vu-iterations' as const,
                exec: 'writers',
                vus: this.writers,
                iterations: 1,
                startTime: `${Math.ceil(this.ramp)}s`,
                maxDuration: `${Math.ceil(endAt - this.ramp + 120)}s`,
                gracefulStop: '30s',
              },
            }
          : {}),
      },
      thresholds,
    };
  }

  /** `setup()`: the accounts to hold sessions for. */
  setup(): SetupData {
    return { usernames: pickUsernames(this.users, this.role, this.fileUsers) };
  }

  /**
   * This VU's share of the sessions (USERS_PER_VU accounts × TABS sockets), started, opened at an
   * even pace over RAMP; at the end the documents are compared (CHECK_CONVERGENCE) and the
   * sockets closed, after `beforeEnd`. Undefined when this VU has no accounts.
   */
  watch(
    data: SetupData,
    hooks: Pick<FleetOptions, 'onHello' | 'onLost'> & { beforeEnd?: () => void } = {},
  ): Fleet | undefined {
    const index = exec.scenario.iterationInTest;
    const mine = data.usernames.slice(index * this.usersPerVu, (index + 1) * this.usersPerVu);
    if (mine.length === 0) return undefined;
    const start = exec.scenario.startTime;
    const fleet = new Fleet({
      usernames: mine,
      password: PASSWORD,
      tabsPerUser: this.tabs,
      startAt: start,
      rampMs: this.ramp * 1000,
      firstIndex: index * this.usersPerVu * this.tabs,
      totalSockets: data.usernames.length * this.tabs,
      keepDoc: this.checkConvergence,
      readyTimeoutMs: this.readyTimeoutMs,
      onHello: hooks.onHello,
      onLost: hooks.onLost,
    });
    fleet.start();
    setTimeout(
      () => {
        hooks.beforeEnd?.();
        if (this.checkConvergence) checkConvergence(fleet.users);
        fleet.stop();
      },
      start + this.endAt * 1000 - Date.now(),
    );
    return fleet;
  }

  /**
   * One writer VU: one account, spread over the watched ones, writing and listening on its own
   * sockets (lib/writer.ts) until 2 × SETTLE seconds before the end.
   */
  async write(data: SetupData): Promise<void> {
    const index = exec.scenario.iterationInTest;
    const stride = Math.max(1, Math.floor(data.usernames.length / this.writers));
    const username = data.usernames[(index * stride) % data.usernames.length];
    if (username === undefined || index >= data.usernames.length) return; // fewer accounts than writers
    await runWriter({
      username,
      password: PASSWORD,
      tabs: this.writerTabs,
      intervalMs: this.writeIntervalMs,
      // The writers' scenario starts at RAMP.
      until: exec.scenario.startTime + (this.endAt - this.ramp - 2 * this.settle) * 1000,
      deltaTimeoutMs: this.deltaTimeoutMs,
      readyTimeoutMs: this.readyTimeoutMs,
      settleMs: this.settle * 1000,
    });
  }
}
