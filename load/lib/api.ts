/** The JSON API of docs/contract.md §4, as the load scripts use it. */
import { fail, sleep } from 'k6';
import http, { type RefinedParams, type RefinedResponse, type ResponseType } from 'k6/http';
import { ADMIN_PASSWORD, ADMIN_USERNAME, BASE_URL, PASSWORD, USER_QUERY } from './config.ts';

export type Role = 'admin' | 'manager' | 'user';
export type TaskStatus = 'todo' | 'in_progress' | 'blocked' | 'done';
export type TaskPriority = 'low' | 'medium' | 'high' | 'urgent';

export interface User {
  id: number;
  username: string;
  display_name: string;
  role: Role;
  active: boolean;
}

export interface Project {
  id: number;
  name: string;
  owner_id: number;
}

export interface Task {
  id: number;
  project_id: number;
  title: string;
  status: TaskStatus;
  priority: TaskPriority;
  assignee_id: number | null;
  due_date: string | null;
}

export interface Page<T> {
  items: T[];
  total: number;
}

export interface Session {
  token: string;
  user: User;
}

export const TASK_STATUSES: readonly TaskStatus[] = ['todo', 'in_progress', 'blocked', 'done'];
export const TASK_PRIORITIES: readonly TaskPriority[] = ['low', 'medium', 'high', 'urgent'];

/** Request parameters with the bearer token, a JSON body type and a `name` tag (one series per route). */
export function params(
  token: string | undefined,
  name: string,
  tags: Record<string, string> = {},
): RefinedParams<'text'> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  return { headers, tags: { name, ...tags }, responseType: 'text' };
}

export function parse<T>(res: RefinedResponse<ResponseType | undefined>): T | undefined {
  if (typeof res.body !== 'string' || res.body === '') return undefined;
  try {
    return JSON.parse(res.body) as T;
  } catch {
    return undefined;
  }
}

/**
 * `POST /api/auth/login` `{username, password}` → `{token, expires_at, user}`. Retries after a
 * 429 (honouring `Retry-After`) and a 5xx a few times; undefined when the sign-in failed.
 */
export function login(username: string, password: string = PASSWORD, attempts = 4): Session | undefined {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const res = http.post(
      `${BASE_URL}/api/auth/login`,
      JSON.stringify({ username, password }),
      params(undefined, 'POST /api/auth/login'),
    );
    if (res.status === 200) {
      const body = parse<{ token: string; user: User }>(res);
      if (body?.token) return { token: body.token, user: body.user };
      return undefined;
    }
    if (res.status === 429) {
      sleep(Math.min(60, Number(res.headers['Retry-After'] ?? 1) || 1));
      continue;
    }
    if (res.status >= 500 || res.status === 0) {
      sleep(Math.min(10, attempt * 2));
      continue;
    }
    console.warn(`sign-in of ${username} failed: ${res.status} ${String(res.body).slice(0, 200)}`);
    return undefined;
  }
  return undefined;
}

/** Signs in as the admin of ADMIN_USERNAME / ADMIN_PASSWORD, or stops the test with a clear message. */
export function adminLogin(): Session {
  if (!ADMIN_PASSWORD) {
    fail('ADMIN_PASSWORD is required (an admin or manager account that can list users), or give USERS_FILE');
  }
  const session = login(ADMIN_USERNAME, ADMIN_PASSWORD, 2);
  if (!session)
    fail(`could not sign in as ${ADMIN_USERNAME}: check BASE_URL, ADMIN_USERNAME, ADMIN_PASSWORD`);
  if (session.user.role === 'user') fail(`${ADMIN_USERNAME} is a plain user; it cannot list users`);
  return session;
}

/** Active users of a role whose username or display name contains USER_QUERY, at most `max`. */
export function listUsers(token: string, role: Role, max: number): User[] {
  const found: User[] = [];
  for (let offset = 0; found.length < max; offset += 200) {
    const query = [`role=${role}`, 'active=true', 'limit=200', `offset=${offset}`, 'sort=id'];
    if (USER_QUERY) query.push(`q=${encodeURIComponent(USER_QUERY)}`);
    const res = http.get(`${BASE_URL}/api/users?${query.join('&')}`, params(token, 'GET /api/users'));
    if (res.status !== 200) fail(`GET /api/users answered ${res.status}: ${String(res.body).slice(0, 200)}`);
    const page = parse<Page<User>>(res);
    if (!page) fail('GET /api/users: not JSON');
    found.push(...page.items.filter((u) => u.active));
    if (page.items.length < 200) break;
  }
  return found.slice(0, max);
}

/** Usernames from USERS_FILE (one per line; `#` comments) when given. Init context only. */
export function readUsersFile(path: string): string[] {
  return open(path)
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * The accounts to hold sessions for (in `setup()`): the first `max` lines of USERS_FILE when one
 * was read, else active users of `role` matching USER_QUERY, listed by the admin account.
 */
export function pickUsernames(max: number, role: Role, fromFile: readonly string[]): string[] {
  const usernames =
    fromFile.length > 0
      ? fromFile.slice(0, max)
      : listUsers(adminLogin().token, role, max).map((u) => u.username);
  if (usernames.length === 0) {
    fail(
      `no ${role} accounts found${USER_QUERY ? ` matching USER_QUERY=${USER_QUERY}` : ''}: seed some with \`npm run seed -- --users N\``,
    );
  }
  if (usernames.length < max) console.warn(`only ${usernames.length} of the ${max} accounts asked for exist`);
  return usernames;
}
