import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { test as base } from 'vitest';
import type { ErrorBody } from '../../src/http/errors.ts';
import type { toProject } from '../../src/projects/rules.ts';
import type { Task } from '../../src/tasks/rules.ts';
import type { PublicUser } from '../../src/users/rules.ts';
import { type DeviceOptions, launchChromium, openDevice, signInWithForm } from './browser.ts';
import { ADMIN, type Cluster, type ClusterOptions, type Instance, startCluster } from './cluster.ts';
import { api, type Reply, signIn } from './live-client.ts';

/**
 * Vitest fixtures for the browser tests (`test/**\/*.browser.test.ts`), instead of a preamble
 * copied into every file:
 *
 * - `browser`: one headless Chromium per worker.
 * - `portal`: one cluster per file (fresh PostgreSQL database, Redis prefix), its base URL, the
 *   admin's token, a typed API client and a pg client on its database; stopped and dropped after.
 * - `people`: the file's users (`cast`), created through the API, each signed in once.
 * - `world`: a project and its tasks (`plan`), created through the API and deleted afterwards.
 * - `problems`: what any watched page of the file did wrong (console error, page error, a request
 *   off the origin), for the file's own final assertion.
 * - `pageAs(who)`: a page on a device of its own, signed in as `who`; the test fails if a page it
 *   opened reports a problem (unless `allow` says that one is expected), and the device is closed.
 *
 * A file chooses its people and data with `test.override({ cast, plan, cluster })` at its top.
 */

export const PASSWORD = 'a-long-user-password';

export type Role = 'admin' | 'manager' | 'user';
export type ApiUser = PublicUser;
export type ApiProject = ReturnType<typeof toProject>;
export type ApiTask = Task;
export type { ErrorBody, Reply };
/** A 4xx reply's body when the input was invalid: the fields named in `details`. */
export interface ApiError {
  error: { code: string; message: string; details: { field: string; message: string }[] };
}
/** A page of a list (`GET /api/users`, `/api/tasks`, `/api/audit`…). */
export interface ApiList<T> {
  items: T[];
  total: number;
}

export interface Person {
  id: number;
  username: string;
  role: Role;
  password: string;
}

/** Who the file needs, by username: a role, or a role with a display name. */
export type Cast = Record<string, Role | { role: Role; display_name?: string }>;

export interface PlannedTask {
  title: string;
  /** A username from the cast. */
  assignee?: string;
  status?: 'todo' | 'in_progress' | 'blocked' | 'done';
  due_date?: string;
  description?: string;
}

/** The data the file starts with: one project and its tasks. */
export interface Plan {
  project: { name: string; description?: string };
  /** Who creates it all (a username from the cast; the project's owner when a manager). */
  by: string;
  tasks: (string | PlannedTask)[];
}

export interface Portal {
  cluster: Cluster;
  /** The first instance, where pages are opened unless told otherwise. */
  instance: Instance;
  instances: Instance[];
  base: string;
  /** The bootstrap admin's bearer token. */
  admin: string;
  /** A pg client on the cluster's own database (closed after the file). */
  sql: pg.Client;
  /** The API as the admin, or as whoever's token is given; the reply's body is `T`. */
  api<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<Reply<T>>;
  /** The same with someone else's token first (reads like the old `api(base, token, …)`). */
  apiAs<T = unknown>(token: string, method: string, path: string, body?: unknown): Promise<Reply<T>>;
}

export interface People {
  /** Everyone of the cast and the admin (`chief`), by username. */
  readonly all: Record<string, Person>;
  /** The person called `username`. */
  get(username: string): Person;
  /** The first person of the cast with this role (the admin for `admin`). */
  first(role: Role): Person;
  /**
   * A bearer token of theirs: signed in through the API on first use, then kept (a sign-in is a
   * session the account page lists, so nobody is signed in before a test asks).
   */
  token(username: string): Promise<string>;
}

export interface World {
  project: ApiProject;
  tasks: ApiTask[];
  /** The first task. */
  task: ApiTask;
}

export interface PageOptions {
  /** Where to arrive after signing in (default `/dashboard`). */
  path?: string;
  /** Browser-context options (user agent, colour scheme, JavaScript off, accept confirm()…). */
  device?: DeviceOptions;
  /** Another instance of the cluster (default the first). */
  instance?: Instance;
  /**
   * Problems this test expects (e.g. a 404 it visits on purpose): they neither fail the test nor go
   * into `problems`; `'all'` watches nothing.
   */
  allow?: RegExp | 'all';
}

/**
 * A page signed in as `who` (a role: the first such person; or a username), or signed out for
 * `null` (then it goes to `options.path`, if given).
 */
export type PageAs = (who: Role | string | null, options?: PageOptions) => Promise<Page>;

const DEFAULT_CAST: Cast = { mona: 'manager', ulla: 'user' };
const DEFAULT_PLAN: Plan = {
  project: { name: 'Launch' },
  by: 'mona',
  tasks: [{ title: 'Ship', assignee: 'ulla' }],
};

async function created<T>(reply: Promise<Reply<unknown>>, what: string): Promise<T> {
  const { status, body } = await reply;
  if (status !== 201 && status !== 200)
    throw new Error(`creating ${what}: ${status} ${JSON.stringify(body)}`);
  return body as T;
}

export const test = base.extend<{
  $worker: { browser: Browser };
  $file: {
    cluster: ClusterOptions & { count?: number };
    portal: Portal;
    cast: Cast;
    people: People;
    plan: Plan;
    world: World;
    problems: string[];
  };
  $test: { pageAs: PageAs };
}>({
  browser: [
    // biome-ignore lint/correctness/noEmptyPattern: vitest reads the fixtures a fixture needs from this pattern
    async ({}, use) => {
      const browser = await launchChromium();
      await use(browser);
      await browser.close();
    },
    { scope: 'worker' },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: needs no other fixture
  cluster: [async ({}, use) => use({}), { scope: 'file' }],
  portal: [
    async ({ cluster: options }, use) => {
      const { count = 1, ...rest } = options;
      const cluster = await startCluster(count, rest);
      const instance = cluster.instances[0]!;
      const sql = new pg.Client({ connectionString: cluster.databaseUrl });
      try {
        await sql.connect();
        const admin = await signIn(instance.base, ADMIN.username, ADMIN.password);
        await use({
          cluster,
          instance,
          instances: cluster.instances,
          base: instance.base,
          admin,
          sql,
          api: <T = unknown>(method: string, path: string, body?: unknown, token = admin) =>
            api<T>(instance.base, token, method, path, body),
          apiAs: <T = unknown>(token: string, method: string, path: string, body?: unknown) =>
            api<T>(instance.base, token, method, path, body),
        });
      } finally {
        await sql.end().catch(() => {});
        await cluster.stop();
      }
    },
    { scope: 'file' },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: needs no other fixture
  cast: [async ({}, use) => use(DEFAULT_CAST), { scope: 'file' }],
  people: [
    async ({ portal, cast }, use) => {
      const all: Record<string, Person> = {
        [ADMIN.username]: {
          id: 0,
          username: ADMIN.username,
          role: 'admin',
          password: ADMIN.password,
        },
      };
      const me = await portal.api<ApiUser>('GET', '/api/me');
      if (me.status === 200) all[ADMIN.username]!.id = me.body.id;
      for (const [username, entry] of Object.entries(cast)) {
        const { role, display_name } =
          typeof entry === 'string' ? { role: entry, display_name: undefined } : entry;
        const user = await created<ApiUser>(
          portal.api('POST', '/api/users', { username, password: PASSWORD, role, display_name }),
          `user ${username}`,
        );
        all[username] = { id: user.id, username, role, password: PASSWORD };
      }
      const tokens = new Map<string, Promise<string>>([[ADMIN.username, Promise.resolve(portal.admin)]]);
      const people: People = {
        all,
        token(username) {
          const person = people.get(username);
          const token = tokens.get(username) ?? signIn(portal.base, username, person.password);
          tokens.set(username, token);
          return token;
        },
        get(username) {
          const person = all[username];
          if (!person) throw new Error(`no ${username} in this file's cast`);
          return person;
        },
        first(role) {
          const person = Object.values(all).find((p) => p.role === role);
          if (!person) throw new Error(`no ${role} in this file's cast`);
          return person;
        },
      };
      await use(people);
    },
    { scope: 'file' },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: needs no other fixture
  plan: [async ({}, use) => use(DEFAULT_PLAN), { scope: 'file' }],
  world: [
    async ({ portal, people, plan }, use) => {
      const byToken = await people.token(plan.by);
      const project = await created<ApiProject>(
        portal.api('POST', '/api/projects', plan.project, byToken),
        `project ${plan.project.name}`,
      );
      const tasks: ApiTask[] = [];
      for (const entry of plan.tasks) {
        const { assignee, ...task } = typeof entry === 'string' ? { title: entry } : entry;
        const body = {
          project_id: project.id,
          ...task,
          ...(assignee ? { assignee_id: people.get(assignee).id } : {}),
        };
        tasks.push(
          await created<ApiTask>(portal.api('POST', '/api/tasks', body, byToken), `task ${task.title}`),
        );
      }
      await use({ project, tasks, task: tasks[0]! });
      // Removed again (what the file has not deleted itself), before the database goes too.
      for (const task of tasks) await portal.api('DELETE', `/api/tasks/${task.id}`);
      await portal.api('DELETE', `/api/projects/${project.id}`);
    },
    { scope: 'file' },
  ],
  // biome-ignore lint/correctness/noEmptyPattern: needs no other fixture
  problems: [async ({}, use) => use([]), { scope: 'file' }],
  // Typed by hand: a fixture whose value is a function leaves TypeScript two readings of it.
  pageAs: async (
    {
      browser,
      portal,
      people,
      problems,
    }: { browser: Browser; portal: Portal; people: People; problems: string[] },
    use: (value: PageAs) => Promise<void>,
  ) => {
    const opened: { context: BrowserContext; seen: string[] }[] = [];
    await use(async (who: Role | string | null, options: PageOptions = {}) => {
      const instance = options.instance ?? portal.instance;
      const { allow } = options;
      const seen: string[] = [];
      // Into this test's list and the file's (for its own final assertion) as they happen; what
      // the test said to expect goes into neither.
      const watched = {
        push: (...found: string[]) => {
          const unexpected = found.filter((p) => !(allow instanceof RegExp && allow.test(p)));
          problems.push(...unexpected);
          return seen.push(...unexpected);
        },
      } as string[];
      const context = await openDevice(
        browser,
        instance.base,
        allow === 'all' ? [] : watched,
        options.device,
      );
      opened.push({ context, seen });
      const page = await context.newPage();
      if (who === null) {
        if (options.path) await page.goto(`${instance.base}${options.path}`);
        return page;
      }
      const person =
        who === 'admin' || who === 'manager' || who === 'user' ? people.first(who) : people.get(who);
      await signInWithForm(page, instance.base, person.username, person.password, options.path);
      return page;
    });
    for (const { context } of opened) await context.close().catch(() => {});
    const unexpected = opened.flatMap(({ seen }) => seen);
    if (unexpected.length > 0) throw new Error(`the page reported problems:\n${unexpected.join('\n')}`);
  },
});

export { expect } from 'vitest';
