/**
 * Counts the statements that may change what the sign-in check (src/auth/sessions.ts) answers:
 * an UPDATE, DELETE or TRUNCATE of `users` or `auth_sessions`, whoever issues it. Every statement
 * sent through a `Db` passes here (the drivers' drizzle logger, `statementCounter`), so a write
 * path added later is seen without being told about it. The sign-in cache's barrier
 * (src/auth/sign-in-cache.ts) compares the count before and after a write request and, when it
 * moved, invalidates every instance's cache before the request is answered.
 *
 * Not counted: inserts (a new user has no sign-in to cache, a new sign-in is in no cache yet) and
 * the "last used" stamp, which changes nothing the check answers.
 */
const SIGN_IN_WRITE =
  /\b(?:update|delete\s+from|truncate(?:\s+table)?)\s+(?:only\s+)?(?:"?public"?\.)?"?(?:users|auth_sessions)"?(?!\w)/i;
/** The "last used" stamp (src/auth/sessions.ts `stampLastUsed`), exactly as drizzle writes it. */
const LAST_USED_STAMP = /^update "auth_sessions" set "last_used_at" = \$1 where/;

let count = 0;

/** Whether a statement's text may change a sign-in (exported for its test). */
export function changesSignIns(sql: string): boolean {
  return SIGN_IN_WRITE.test(sql) && !LAST_USED_STAMP.test(sql);
}

/** Called for every statement before it is sent. */
export function noteStatement(sql: string): void {
  if (changesSignIns(sql)) count++;
}

/** How many sign-in-changing statements this process has sent so far. */
export function signInWriteCount(): number {
  return count;
}
