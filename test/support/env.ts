/** Where the real services are, and a prefix unique to this test run (set by .ci/run, else made here). */
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const RUN_ID = (process.env.TEST_RUN_ID ?? `t${Date.now().toString(36)}${process.pid}`).toLowerCase();

export function pgUrlFor(database: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}
