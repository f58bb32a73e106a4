/**
 * A writer that measures delta latency end to end: one virtual user both writes and listens.
 *
 * It signs in as one account, opens `tabs` realtime sessions of that same account, and then,
 * once per interval, moves one of its tasks between `todo` and `in_progress` (a change that
 * always alters its own dashboard document: `my_tasks`, `team_tasks` or `org_tasks`, depending
 * on its role). The time is stamped just before the PATCH is sent; the latency of each of its
 * sockets is the time k6 read the next delta off that socket minus the stamp. Both clocks are
 * this one k6 process, so nothing is compared across machines. The PATCH is sent with
 * `http.asyncRequest` so the VU's event loop keeps reading frames while it is in flight.
 *
 * Each writer must be the only writer of its account, and nothing else should change that
 * account's tasks meanwhile (the latency of a foreign change would be attributed to it).
 */
import http from 'k6/http';
import { Rate, Trend } from 'k6/metrics';
import { setTimeout } from 'k6/timers';
import { login, type Page, params, parse, type Task, type TaskStatus } from './api.ts';
import { BASE_URL } from './config.ts';
import { checkConvergence, rt, Tab } from './realtime.ts';

export const writerMetrics = {
  /** Write sent → its delta read on each socket of the writing account. */
  deltaLatency: new Trend('rt_delta_latency', true),
  /** Share of (write, socket) pairs whose delta arrived within DELTA_TIMEOUT_MS. */
  deltaDelivered: new Rate('rt_delta_delivered'),
  /** Share of task writes the API accepted. */
  writeOk: new Rate('rt_write_ok'),
};

export const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Polls `condition` until it holds or `timeoutMs` passes; frames keep arriving meanwhile. */
export async function waitUntil(condition: () => boolean, timeoutMs: number, pollMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await wait(pollMs);
  }
  return true;
}

/** A task this account may move along: visible to it and in `todo` or `in_progress`. */
function findTask(token: string): Task | undefined {
  for (const status of ['todo', 'in_progress'] as const) {
    const res = http.get(
      `${BASE_URL}/api/tasks?status=${status}&limit=1&sort=id`,
      params(token, 'GET /api/tasks', { kind: 'read' }),
    );
    const task = parse<Page<Task>>(res)?.items[0];
    if (task) return task;
  }
  return undefined;
}

export interface WriterOptions {
  username: string;
  password: string;
  tabs: number;
  intervalMs: number;
  /** Stop writing at this time (ms since the epoch). */
  until: number;
  deltaTimeoutMs: number;
  readyTimeoutMs: number;
  /** After the last write, wait this long and compare each socket's document with GET /api/metrics. */
  settleMs: number;
}

interface PendingWrite {
  at: number;
  /** Per tab: the version held when the write was sent (undefined: tab not live, not measured). */
  fromSeq: (number | undefined)[];
  seen: boolean[];
}

export async function runWriter(o: WriterOptions): Promise<void> {
  const session = login(o.username, o.password);
  rt.signedIn.add(session !== undefined);
  if (!session) return;
  const { token } = session;
  const task = findTask(token);
  if (!task) {
    console.warn(`writer ${o.username}: no task in todo or in_progress to move; not writing`);
    return;
  }

  let pending: PendingWrite | undefined;
  const tabs: Tab[] = [];
  for (let i = 0; i < o.tabs; i++) {
    tabs.push(
      new Tab({
        token,
        keepDoc: true,
        readyTimeoutMs: o.readyTimeoutMs,
        onDelta: (tab, seq, arrivedAt) => {
          const write = pending;
          const index = tabs.indexOf(tab);
          const from = write?.fromSeq[index];
          if (!write || from === undefined || write.seen[index] || seq <= from) return;
          write.seen[index] = true;
          writerMetrics.deltaLatency.add(arrivedAt - write.at);
        },
      }),
    );
  }
  for (const tab of tabs) tab.open();
  if (!(await waitUntil(() => tabs.every((t) => t.live), o.readyTimeoutMs))) {
    console.warn(`writer ${o.username}: not every socket was ready after ${o.readyTimeoutMs} ms`);
  }

  const original: TaskStatus = task.status;
  let current: TaskStatus = original;
  const patch = (status: TaskStatus) =>
    http.asyncRequest(
      'PATCH',
      `${BASE_URL}/api/tasks/${task.id}`,
      JSON.stringify({ status }),
      params(token, 'PATCH /api/tasks/:id', { kind: 'write' }),
    );

  while (Date.now() < o.until) {
    const next: TaskStatus = current === 'todo' ? 'in_progress' : 'todo';
    const write: PendingWrite = {
      at: Date.now(),
      fromSeq: tabs.map((t) => (t.live ? t.seq : undefined)),
      seen: tabs.map(() => false),
    };
    pending = write;
    const res = await patch(next);
    const ok = res.status === 200;
    writerMetrics.writeOk.add(ok);
    if (ok) {
      current = next;
      await waitUntil(
        () => write.seen.every((seen, i) => seen || write.fromSeq[i] === undefined),
        o.deltaTimeoutMs,
      );
      write.fromSeq.forEach((from, i) => {
        if (from !== undefined) writerMetrics.deltaDelivered.add(write.seen[i] === true);
      });
    } else {
      console.warn(`writer ${o.username}: PATCH /api/tasks/${task.id} answered ${res.status}`);
    }
    pending = undefined;
    await wait(o.intervalMs - (Date.now() - write.at));
  }

  // Leave the data as we found it, then check that every socket converged on GET /api/metrics.
  if (current !== original) await patch(original);
  await wait(o.settleMs);
  checkConvergence([{ username: o.username, token, tabs }]);
  for (const tab of tabs) tab.stop();
}
