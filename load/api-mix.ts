/**
 * Mixed JSON API workload across the three roles, at a fixed arrival rate (an open model: a slow
 * server does not slow the arrivals down, it makes them queue or drop — see `dropped_iterations`).
 *
 *   k6 run -e BASE_URL=http://localhost:3000 -e ADMIN_PASSWORD=… load/api-mix.ts
 *
 * Each iteration is one request (occasionally two or three) of one account:
 * - user (USER_SHARE): their dashboard, their tasks by status, a title search, projects, one task,
 *   and moving one of their tasks to another status.
 * - manager (MANAGER_SHARE): tasks of an owned project, dashboard, projects, picking assignees
 *   (GET /api/users), searches, creating tasks in an owned project, editing and deleting them, and
 *   now and then a project created, renamed and deleted.
 * - admin (ADMIN_SHARE): the audit feed, the user list, the organisation dashboard, projects.
 * Tasks it creates are titled `k6 load …`; teardown deletes those still there (CLEANUP=1).
 *
 * Environment (defaults in brackets)
 *   BASE_URL [http://localhost:3000]
 *   ADMIN_USERNAME [admin] ADMIN_PASSWORD   the admin account (lists the others, runs the admin share)
 *   USER_QUERY []                           only usernames containing this (the seed prefix)
 *   PASSWORD [bench-password-2026]          password of the listed accounts
 *   USERS [200] MANAGERS [20]               accounts used per role
 *   RATE [50] requests (iterations) per second in total; DURATION [300] seconds
 *   USER_SHARE [0.7] MANAGER_SHARE [0.25] ADMIN_SHARE [0.05]
 *   PRE_VUS [20] MAX_VUS [300]              VUs per scenario kept ready / at most
 *   CLEANUP [1]
 *   Thresholds: READ_P95_MS [300] WRITE_P95_MS [500] P99_MS [1500] ERROR_RATE [0.01]
 */
import { check } from 'k6';
import exec from 'k6/execution';
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import type { Options } from 'k6/options';
import {
  adminLogin,
  listUsers,
  login,
  type Page,
  type Project,
  params,
  parse,
  type Session,
  TASK_PRIORITIES,
  TASK_STATUSES,
  type Task,
  type User,
} from './lib/api.ts';
import {
  ADMIN_PASSWORD,
  ADMIN_USERNAME,
  BASE_URL,
  envBool,
  envInt,
  envNumber,
  PASSWORD,
  SUMMARY_TREND_STATS,
} from './lib/config.ts';

const RATE = envNumber('RATE', 50);
const DURATION = envNumber('DURATION', 300);
const USERS = envInt('USERS', 200);
const MANAGERS = envInt('MANAGERS', 20);
const SHARES = {
  user: envNumber('USER_SHARE', 0.7),
  manager: envNumber('MANAGER_SHARE', 0.25),
  admin: envNumber('ADMIN_SHARE', 0.05),
};
const PRE_VUS = Math.max(1, envInt('PRE_VUS', 20));
const MAX_VUS = Math.max(PRE_VUS, envInt('MAX_VUS', 300));
const CLEANUP = envBool('CLEANUP', true);
const TITLE_PREFIX = 'k6 load';
const WORDS = [
  'login',
  'invoice',
  'search',
  'release',
  'backup',
  'dashboard',
  'API',
  'review',
  'test',
  'plan',
];

type RoleName = keyof typeof SHARES;

/** Iterations per minute (integers; per minute so that fractional rates per second still work). */
const perMinute = (role: RoleName) => Math.round(RATE * SHARES[role] * 60);

function scenario(role: RoleName) {
  return {
    executor: 'constant-arrival-rate' as const,
    exec: role,
    rate: perMinute(role),
    timeUnit: '1m',
    duration: `${Math.ceil(DURATION)}s`,
    preAllocatedVUs: PRE_VUS,
    maxVUs: MAX_VUS,
    gracefulStop: '10s',
  };
}

export const options: Options = {
  setupTimeout: '120s',
  teardownTimeout: '300s',
  summaryTrendStats: SUMMARY_TREND_STATS,
  scenarios: Object.fromEntries(
    (Object.keys(SHARES) as RoleName[]).filter((r) => perMinute(r) > 0).map((r) => [r, scenario(r)]),
  ),
  thresholds: {
    http_req_failed: [`rate<${envNumber('ERROR_RATE', 0.01)}`],
    'http_req_duration{kind:read}': [
      `p(95)<${envNumber('READ_P95_MS', 300)}`,
      `p(99)<${envNumber('P99_MS', 1500)}`,
    ],
    'http_req_duration{kind:write}': [
      `p(95)<${envNumber('WRITE_P95_MS', 500)}`,
      `p(99)<${envNumber('P99_MS', 1500)}`,
    ],
    checks: ['rate>0.99'],
    // Arrivals k6 could not start because every VU was busy: the server fell behind.
    dropped_iterations: [`count<${Math.max(1, Math.ceil(RATE * DURATION * 0.01))}`],
  },
};

interface SetupData {
  users: string[];
  managers: string[];
}

export function setup(): SetupData {
  const admin = adminLogin();
  const users = listUsers(admin.token, 'user', USERS).map((u) => u.username);
  const managers = listUsers(admin.token, 'manager', MANAGERS).map((u) => u.username);
  if (SHARES.user > 0 && users.length === 0) throw new Error('no user accounts found (USER_QUERY?)');
  if (SHARES.manager > 0 && managers.length === 0) throw new Error('no manager accounts found (USER_QUERY?)');
  return { users, managers };
}

// ---- per-VU state: one account per VU, signed in once -------------------------------------------

interface Account extends Session {
  /** Its tasks, projects and assignees were looked up (once per VU). */
  loaded: boolean;
  taskIds: number[];
  projectIds: number[];
  assigneeIds: number[];
  created: number[];
}

let account: Account | undefined;

function signIn(username: string, password: string): Account | undefined {
  if (account?.user.username.toLowerCase() === username.toLowerCase()) return account;
  const session = login(username, password);
  if (!session) return undefined;
  account = { ...session, loaded: false, taskIds: [], projectIds: [], assigneeIds: [], created: [] };
  return account;
}

const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(Math.random() * items.length)];

/** An action of a role, and how often it is picked relative to the role's other actions. */
type Weighted = [weight: number, action: (a: Account) => void];

/** Runs one action, picked by weight. */
function perform(actions: Record<string, Weighted>): (a: Account) => void {
  const entries = Object.values(actions);
  let r = Math.random() * entries.reduce((sum, [w]) => sum + w, 0);
  for (const [weight, action] of entries) {
    r -= weight;
    if (r < 0) return action;
  }
  return entries[0]![1];
}

function ok(res: RefinedResponse<ResponseType | undefined>, name: string, expected: number[]): boolean {
  if (res.status === 401) account = undefined; // revoked or expired: sign in again next time
  return check(res, { [`${name}: ${expected.join('/')}`]: (r) => expected.includes(r.status) });
}

/**
 * Request parameters: bearer token, `name` and `kind` tags, and the statuses that count as success
 * for `http_req_failed` (a 404 is expected where another VU may have moved or deleted the task).
 */
function request(a: Account, name: string, kind: 'read' | 'write', expected: number[]) {
  return { ...params(a.token, name, { kind }), responseCallback: http.expectedStatuses(...expected) };
}

function get<T>(a: Account, path: string, name: string, expected = [200]): T | undefined {
  const res = http.get(`${BASE_URL}${path}`, request(a, `GET ${name}`, 'read', expected));
  return ok(res, `GET ${name}`, expected) && res.status === 200 ? parse<T>(res) : undefined;
}

function send<T>(
  a: Account,
  method: 'POST' | 'PATCH' | 'DELETE',
  path: string,
  name: string,
  body: unknown,
  expected: number[],
): T | undefined {
  const res = http.request(
    method,
    `${BASE_URL}${path}`,
    body === undefined ? null : JSON.stringify(body),
    request(a, `${method} ${name}`, 'write', expected),
  );
  return ok(res, `${method} ${name}`, expected) && res.status < 300 ? parse<T>(res) : undefined;
}

const isoDate = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

// ---- roles ---------------------------------------------------------------------------------------

/**
 * One iteration of a role: this VU's account (signed in once), its lookups done once per VU by
 * `load`, then one of `actions` picked by weight.
 */
function iterate(
  a: Account | undefined,
  load: (a: Account) => void,
  actions: Record<string, Weighted>,
): void {
  if (!a) return;
  if (!a.loaded) {
    a.loaded = true;
    load(a);
  }
  perform(actions)(a);
}

/** This VU's account among `usernames` (they share the password PASSWORD). */
function accountOf(usernames: string[]): Account | undefined {
  const username = usernames[exec.vu.idInTest % usernames.length];
  return username === undefined ? undefined : signIn(username, PASSWORD);
}

/** Reads every role makes. */
const metrics = (a: Account) => get(a, '/api/metrics', '/api/metrics');
const projects = (a: Account) => get(a, '/api/projects?limit=50', '/api/projects');
const search = (a: Account) =>
  get(a, `/api/tasks?q=${encodeURIComponent(pick(WORDS) ?? 'test')}&limit=20`, '/api/tasks?q');

export function user(data: SetupData): void {
  iterate(
    accountOf(data.users),
    (a) => {
      const page = get<Page<Task>>(a, '/api/tasks?limit=100', '/api/tasks');
      a.taskIds = page?.items.map((t) => t.id) ?? [];
    },
    {
      metrics: [30, metrics],
      byStatus: [25, (a) => get(a, `/api/tasks?status=${pick(TASK_STATUSES)}&limit=20`, '/api/tasks')],
      search: [15, search],
      projects: [10, projects],
      task: [
        10,
        (a) => {
          const id = pick(a.taskIds);
          // 404 once a manager has reassigned it (or deleted it): expected, not an error.
          if (id !== undefined) get(a, `/api/tasks/${id}`, '/api/tasks/:id', [200, 404]);
        },
      ],
      move: [
        10,
        (a) => {
          // The assignee may change the status of their task, and nothing else.
          const id = pick(a.taskIds);
          if (id === undefined) return;
          send(a, 'PATCH', `/api/tasks/${id}`, '/api/tasks/:id', { status: pick(TASK_STATUSES) }, [200, 404]);
        },
      ],
    },
  );
}

/** One of the manager's own projects (undefined: owns none, the action does nothing). */
const ownProject = (a: Account) => pick(a.projectIds);

export function manager(data: SetupData): void {
  iterate(
    accountOf(data.managers),
    (a) => {
      const page = get<Page<Project>>(a, '/api/projects?limit=200', '/api/projects');
      a.projectIds = page?.items.filter((p) => p.owner_id === a.user.id).map((p) => p.id) ?? [];
      const people = get<Page<User>>(a, '/api/users?role=user&active=true&limit=200', '/api/users');
      a.assigneeIds = people?.items.map((u) => u.id) ?? [];
    },
    {
      projectTasks: [
        20,
        (a) => {
          const project = ownProject(a);
          if (project !== undefined) get(a, `/api/tasks?project_id=${project}&limit=50`, '/api/tasks');
        },
      ],
      metrics: [15, metrics],
      projects: [10, projects],
      assignees: [
        10,
        (a) =>
          get(
            a,
            `/api/users?q=${String.fromCharCode(97 + Math.floor(Math.random() * 26))}&limit=20`,
            '/api/users',
          ),
      ],
      search: [5, search],
      create: [15, createTask],
      edit: [15, editTask],
      remove: [
        8,
        (a) => {
          // Only tasks this VU created, so the seeded data stays as it was.
          const id = a.created.shift();
          if (id !== undefined)
            send(a, 'DELETE', `/api/tasks/${id}`, '/api/tasks/:id', undefined, [204, 404]);
        },
      ],
      churn: [2, churnProject],
    },
  );
}

function createTask(a: Account) {
  const project = ownProject(a);
  if (project === undefined) return;
  const task = send<Task>(
    a,
    'POST',
    '/api/tasks',
    '/api/tasks',
    {
      project_id: project,
      title: `${TITLE_PREFIX} ${exec.vu.idInTest}-${exec.vu.iterationInScenario}`,
      assignee_id: pick(a.assigneeIds) ?? null,
      priority: pick(TASK_PRIORITIES),
      due_date: isoDate(Math.floor(Math.random() * 30) - 5),
    },
    [201],
  );
  if (task) a.created.push(task.id);
}

function editTask(a: Account) {
  const project = ownProject(a);
  if (project === undefined) return;
  const tasks = get<Page<Task>>(
    a,
    `/api/tasks?project_id=${project}&limit=20&sort=-updated_at`,
    '/api/tasks',
  );
  const task = pick(tasks?.items ?? []);
  if (!task) return;
  const change =
    Math.random() < 0.5
      ? { status: pick(TASK_STATUSES) }
      : { priority: pick(TASK_PRIORITIES), assignee_id: pick(a.assigneeIds) ?? null };
  // Another VU of the same account may have deleted it meanwhile: 404 is expected.
  send(a, 'PATCH', `/api/tasks/${task.id}`, '/api/tasks/:id', change, [200, 404]);
}

/** A project created, renamed and deleted. */
function churnProject(a: Account) {
  const created = send<Project>(
    a,
    'POST',
    '/api/projects',
    '/api/projects',
    { name: `${TITLE_PREFIX} project ${exec.vu.idInTest}-${exec.vu.iterationInScenario}` },
    [201],
  );
  if (!created) return;
  send(
    a,
    'PATCH',
    `/api/projects/${created.id}`,
    '/api/projects/:id',
    { description: 'renamed by k6' },
    [200],
  );
  send(a, 'DELETE', `/api/projects/${created.id}`, '/api/projects/:id', undefined, [204]);
}

export function admin(): void {
  iterate(signIn(ADMIN_USERNAME, ADMIN_PASSWORD), () => {}, {
    audit: [30, (a) => get(a, '/api/audit?limit=50', '/api/audit')],
    users: [
      25,
      (a) => get(a, `/api/users?limit=50&offset=${Math.floor(Math.random() * 10) * 50}`, '/api/users'),
    ],
    metrics: [25, metrics],
    projects: [20, projects],
  });
}

/** Deletes the tasks and projects this run created and did not delete itself. */
export function teardown(): void {
  if (!CLEANUP) return;
  const a = adminLogin();
  const cleanup = { name: 'cleanup', kind: 'cleanup' };
  for (const [kind, path] of [
    ['tasks', '/api/tasks'],
    ['projects', '/api/projects'],
  ] as const) {
    for (let round = 0; round < 100; round++) {
      const res = http.get(
        `${BASE_URL}${path}?q=${encodeURIComponent(TITLE_PREFIX)}&limit=200`,
        params(a.token, cleanup.name, { kind: cleanup.kind }),
      );
      const items = (parse<Page<{ id: number; title?: string; name?: string }>>(res)?.items ?? []).filter(
        (i) => (i.title ?? i.name ?? '').startsWith(TITLE_PREFIX),
      );
      if (items.length === 0) break;
      for (const item of items) {
        http.del(
          `${BASE_URL}${path}/${item.id}`,
          null,
          params(a.token, cleanup.name, { kind: cleanup.kind }),
        );
      }
    }
    console.log(`cleanup: ${kind} titled "${TITLE_PREFIX} …" removed`);
  }
}
