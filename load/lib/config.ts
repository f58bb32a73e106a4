/**
 * Environment for every load script (`k6 run -e NAME=value …` or exported variables).
 * Each script documents the variables it reads at its top; these are the shared ones.
 */

export function envString(name: string, fallback: string): string {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : value;
}

export function envNumber(name: string, fallback: number): number {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new Error(`${name}: expected a non-negative number, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function envInt(name: string, fallback: number): number {
  const value = envNumber(name, fallback);
  if (!Number.isInteger(value)) throw new Error(`${name}: expected an integer, got ${value}`);
  return value;
}

export function envBool(name: string, fallback: boolean): boolean {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new Error(`${name}: expected 1/0 or true/false, got ${JSON.stringify(raw)}`);
}

/** `http://localhost:3000` (default), `https://my-portal.fly.dev`; no trailing slash. */
export const BASE_URL = envString('BASE_URL', 'http://localhost:3000').replace(/\/+$/, '');

/** The realtime endpoint: `ws://` for `http://`, `wss://` for `https://` (override with WS_URL). */
export const WS_URL = envString('WS_URL', `${BASE_URL.replace(/^http/, 'ws')}/ws`);

/** Password of the seeded accounts (`npm run seed` default; the demo data uses `demo-password-2026`). */
export const PASSWORD = envString('PASSWORD', 'bench-password-2026');

/** An admin (or manager) that can list users to pick the accounts to sign in as. */
export const ADMIN_USERNAME = envString('ADMIN_USERNAME', 'admin');
export const ADMIN_PASSWORD = envString('ADMIN_PASSWORD', '');

/** Substring of the usernames to use (`npm run seed` prints its prefix, e.g. `sm1x2y3.`); empty: all. */
export const USER_QUERY = envString('USER_QUERY', '');

/** A file with one username per line, instead of listing them through the API (read at init). */
export const USERS_FILE = envString('USERS_FILE', '');

/** Trend statistics in the end-of-test summary (percentiles included). */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'];
