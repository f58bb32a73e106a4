import type { Db } from '../db/database.ts';
import type { UserRow } from '../db/schema/users.ts';
import { PortalError } from '../errors.ts';
import { findUserById, findUserForSignIn, toUser, usernameKey } from '../users/rules.ts';
import { throttled } from './account.ts';
import { mfaEnabled, useSecondFactor } from './mfa.ts';
import { verifyPassword } from './passwords.ts';
import type { SecretBox } from './secret-box.ts';
import { createAuthSession } from './sessions.ts';
import type { LoginThrottle } from './throttle.ts';
import type { TokenService } from './tokens.ts';

export interface SignInRequest {
  username: string;
  password: string;
  /** The second factor (a TOTP code or a recovery code), for users with two-factor sign-in on. */
  code?: string | undefined;
  clientAddress: string;
  userAgent: string;
}

/**
 * Takes a sign-in attempt from the throttle (before any password is checked, so concurrent
 * attempts cannot slip past it), then checks the password (argon2id; the same work when the user
 * does not exist) and opens a session. The throttle counts the username as the database
 * normalises it, so every spelling of one account shares one budget.
 */
export async function signIn(
  deps: { db: Db; tokens: TokenService; throttle: LoginThrottle; mfa: SecretBox },
  request: SignInRequest,
) {
  const { username, password, clientAddress } = request;
  const { key, user } = await findUserForSignIn(deps.db, username);
  const attempt = await deps.throttle.attempt(key, clientAddress);
  if (!attempt.allowed) {
    const wait = attempt.retryAfter;
    throw new PortalError(
      'rate_limited',
      `Too many failed sign-ins; try again in ${wait} seconds`,
      undefined,
      {
        retryAfterSeconds: wait,
      },
    );
  }
  const ok = await verifyPassword(user?.password_hash, password);
  if (!user || !ok) throw new PortalError('invalid_credentials', 'Wrong username or password');
  if (!user.active) throw new PortalError('account_deactivated', 'This account is deactivated; ask an admin');
  // Second step, for users with two-factor sign-in on. A right password without a code hands
  // the attempt back (it proved nothing wrong); a wrong code keeps it, like a wrong password.
  if (await mfaEnabled(deps.db, user.id)) {
    if (!request.code) {
      await attempt.released();
      throw new PortalError('mfa_required', 'Enter the code from your authenticator app');
    }
    if (!(await useSecondFactor(deps.db, deps.mfa, user.id, request.code))) {
      throw new PortalError('invalid_code', 'Wrong or already used code');
    }
  }
  await attempt.succeeded();
  return openSession(deps, user, request);
}

async function openSession(
  deps: { db: Db; tokens: TokenService },
  user: UserRow,
  meta: { clientAddress: string; userAgent: string },
) {
  const session = await createAuthSession(deps.db, user.id, deps.tokens.ttlSeconds, meta);
  const token = await deps.tokens.sign({ userId: user.id, sessionId: session.id }, session.expiresAt);
  return { token, expires_at: session.expiresAt.toISOString(), user: toUser(user) };
}

/**
 * The sign-in page's second step: the password was right moments ago (a short-lived signed
 * "pending" token says so, see TokenService.signPending); now the code, with the same throttle.
 */
export async function signInSecondStep(
  deps: { db: Db; tokens: TokenService; throttle: LoginThrottle; mfa: SecretBox },
  request: { userId: number; code: string; clientAddress: string; userAgent: string },
) {
  const user = await findUserById(deps.db, request.userId);
  if (!user?.active) throw new PortalError('invalid_credentials', 'Sign in again');
  const attempt = await deps.throttle.attempt(
    await usernameKey(deps.db, user.username),
    request.clientAddress,
  );
  if (!attempt.allowed) throw throttled(attempt.retryAfter);
  if (!(await useSecondFactor(deps.db, deps.mfa, user.id, request.code))) {
    throw new PortalError('invalid_code', 'Wrong or already used code');
  }
  await attempt.succeeded();
  return openSession(deps, user, request);
}
