import { afterAll, beforeAll, expect } from 'vitest';
import { startTestApp, type TestApp } from './app.ts';
import { type Client, client, type Reply } from './client.ts';
import { expectErrorBody } from './errors.ts';
import { type ContractCheck, validateResponses } from './openapi-contract.ts';
import { makeWorld, type World } from './world.ts';

/**
 * The JSON API contract (docs/contract.md §4) is tested end to end over HTTP (app.request), on
 * in-memory PGlite, real PostgreSQL and the Neon serverless driver (through the local relay), one
 * file per feature (test/<feature>/api.test.ts). This is their shared set-up and vocabulary.
 */
export const DRIVERS = ['pglite', 'pg', 'neon'] as const;

export const USER_KEYS = ['active', 'created_at', 'display_name', 'id', 'role', 'updated_at', 'username'];
export const PROJECT_KEYS = ['created_at', 'description', 'id', 'name', 'owner_id', 'updated_at'];
export const TASK_KEYS = [
  'assignee_id',
  'completed_at',
  'created_at',
  'description',
  'due_date',
  'id',
  'priority',
  'project_id',
  'status',
  'title',
  'updated_at',
];
export const STATUS_KEYS = ['blocked', 'done', 'in_progress', 'todo'];
/** The password of every user these tests create through the API. */
export const SECRET = 'a perfectly long passphrase';
export const FOREIGN = 'http://evil.example';
export const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** The error body of docs/contract.md §4 (test/support/errors.ts) with this status and code. */
export function expectError(res: Reply, status: number, code: string) {
  expectErrorBody(res, status);
  expect(res.body.error.code).toBe(code);
}

/** A 422 whose details name the given fields (and maybe others). */
export function expectInvalid(res: Reply, ...fields: string[]) {
  expectError(res, 422, 'validation_failed');
  const named = (res.body.error.details as { field: string }[]).map((d) => d.field);
  for (const field of fields) expect(named).toContain(field);
}

export const sorted = (keys: Iterable<string>) => [...keys].sort();
export const titles = (res: Reply) => res.body.items.map((t: { title: string }) => t.title);
export const ids = (res: Reply) => res.body.items.map((x: { id: number }) => x.id);

export interface ApiHarness {
  /** The running app (set in beforeAll). */
  ctx: TestApp;
  /** Its small organisation: admin, two managers with a project and a task each, two users. */
  w: World;
  contract: ContractCheck;
  anon: () => Client;
  login: (username: string, password: string) => Promise<Reply>;
  /** Signs in and answers an API client carrying the new bearer token. */
  signIn: (username: string, password?: string) => Promise<Client>;
  /** An admin creates a user through the API. */
  newUser: (
    username: string,
    role: 'admin' | 'manager' | 'user',
    display_name?: string,
  ) => Promise<{ id: number; username: string }>;
  newTask: (
    api: Client,
    body: Record<string, unknown>,
  ) => Promise<{ id: number; title: string; completed_at: string | null }>;
}

/**
 * One app per driver for the describe block that calls it; every response is also checked
 * against the OpenAPI document (test/support/openapi-contract.ts), and the check must have run on
 * at least `minValidated` of them (a check that saw nothing proves nothing).
 */
export function useApi(
  driver: (typeof DRIVERS)[number],
  options: {
    minValidated: number;
    /** The app's options; the API contract files use a small sign-in budget, the default here. */
    app?: Parameters<typeof startTestApp>[1];
  },
): ApiHarness {
  const h = {
    anon: () => client(h.ctx),
    login: (username: string, password: string) =>
      client(h.ctx).post('/api/auth/login', { username, password }),
    signIn: async (username: string, password = SECRET) => {
      const res = await h.login(username, password);
      expect(res.status, res.text).toBe(200);
      return client(h.ctx, res.body.token);
    },
    newUser: async (username: string, role: 'admin' | 'manager' | 'user', display_name?: string) => {
      const res = await h.w.admin.api.post('/api/users', {
        username,
        password: SECRET,
        role,
        ...(display_name === undefined ? {} : { display_name }),
      });
      expect(res.status, res.text).toBe(201);
      return res.body as { id: number; username: string };
    },
    newTask: async (api: Client, body: Record<string, unknown>) => {
      const res = await api.post('/api/tasks', body);
      expect(res.status, res.text).toBe(201);
      return res.body as { id: number; title: string; completed_at: string | null };
    },
  } as ApiHarness;
  beforeAll(async () => {
    h.ctx = await startTestApp(
      driver,
      options.app ?? { limits: { perUsername: 3, perAddress: 100, windowSeconds: 60 } },
    );
    h.contract = await validateResponses(h.ctx);
    h.w = await makeWorld(h.ctx);
  });
  afterAll(async () => {
    await h.ctx?.close();
    expect(h.contract.validated).toBeGreaterThanOrEqual(options.minValidated);
  });
  return h;
}
