import { eq } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import { users } from '../db/schema/users.ts';
import { invalid, PortalError } from '../errors.ts';
import { usernameKey } from '../users/rules.ts';
import { type Actor, writeAs } from './actor.ts';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { revokeAllSessions } from './sessions.ts';
import type { LoginThrottle } from './throttle.ts';

/** The 429 a spent throttle budget answers with. */
export function throttled(retryAfter: number) {
  return new PortalError(
    'rate_limited',
    `Too many failed attempts; try again in ${retryAfter} seconds`,
    undefined,
    { retryAfterSeconds: retryAfter },
  );
}

/**
 * Checks a proof the signed-in caller gives (their current password, a second-factor code)
 * under the sign-in throttle: the attempt is taken before the check (so a burst cannot slip
 * past the limit), and a wrong proof keeps it, counting as a failed sign-in of that username.
 */
export async function throttledCheck(
  deps: { db: Db; throttle: LoginThrottle },
  who: { username: string; address: string },
  check: () => Promise<boolean>,
  refusal: () => PortalError,
) {
  const attempt = await deps.throttle.attempt(await usernameKey(deps.db, who.username), who.address);
  if (!attempt.allowed) throw throttled(attempt.retryAfter);
  if (!(await check())) throw refusal();
  await attempt.succeeded();
}

/**
 * The caller changes their own password: the current one must be right (throttled like a
 * sign-in), the new one follows the rules for new users and differs from the current one. Clears
 * "must change password" and ends every other sign-in; answers the ids of the sign-ins it ended.
 */
export async function changeOwnPassword(
  deps: { db: Db; throttle: LoginThrottle },
  actor: Actor,
  input: { current_password: string; new_password: string; clientAddress: string },
): Promise<string[]> {
  const { db } = deps;
  const [user] = await db.select().from(users).where(eq(users.id, actor.id));
  if (!user) throw new PortalError('unauthenticated', 'Sign in first');
  await throttledCheck(
    deps,
    { username: user.username, address: input.clientAddress },
    () => verifyPassword(user.password_hash, input.current_password),
    () => new PortalError('wrong_password', 'The current password is wrong'),
  );
  const problem = passwordProblem(input.new_password, user.username);
  if (problem) throw invalid('new_password', problem);
  if (input.new_password === input.current_password)
    throw invalid('new_password', 'must differ from the current password');
  const password_hash = await hashPassword(input.new_password);
  return writeAs(db, actor.id, async (tx) => {
    await tx.update(users).set({ password_hash, must_change_password: false }).where(eq(users.id, actor.id));
    return revokeAllSessions(tx, actor.id, actor.sessionId);
  });
}
