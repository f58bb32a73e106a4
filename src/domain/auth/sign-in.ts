import type { Db } from '../../db/database.js';
import type { UserRow } from '../../db/schema/users.js';
import { ApiError } from '../../http/errors.js';
import { findUserById, findUserByUsername, toUser } from '../users.js';
import { mfaEnabled, useSecondFactor } from './mfa.js';
import { verifyPassword } from './passwords.js';
import type { SecretBox } from './secret-box.js';
import { createAuthSession } from './sessions.js';
import type { LoginThrottle } from './throttle.js';
import type { TokenService } from './tokens.js';

export interface SignInRequest {
  username: string;
  password: string;
  /** The second factor (a TOTP code or a recovery code), for users with two-factor sign-in on. */
  code?: string | undefined;
  clientAddress: string;
  userAgent: string;
}

/**
 * Checks the throttle, then the password (argon2id; the same work when the user does not exist),
 * and opens a session. Failures count against both the username and the client address.
 */
export async function signIn(
  deps: { db: Db; tokens: TokenService; throttle: LoginThrottle; mfa: SecretBox },
  request: SignInRequest,
) {
  const { username, password, clientAddress } = request;
  const wait = await deps.throttle.retryAfter(username, clientAddress);
  if (wait !== undefined) {
    throw new ApiError('rate_limited', `Too many failed sign-ins; try again in ${wait} seconds`, undefined, {
      'Retry-After': String(wait),
    });
  }
  const user = await findUserByUsername(deps.db, username);
  const ok = await verifyPassword(user?.password_hash, password);
  if (!user || !ok) {
    await deps.throttle.recordFailure(username, clientAddress);
    throw new ApiError('invalid_credentials', 'Wrong username or password');
  }
  if (!user.active) throw new ApiError('account_deactivated', 'This account is deactivated; ask an admin');
  // Second step, for users with two-factor sign-in on: a wrong code counts as a failed sign-in,
  // and the failure count is reset only once both factors are right.
  if (await mfaEnabled(deps.db, user.id)) {
    if (!request.code) throw new ApiError('mfa_required', 'Enter the code from your authenticator app');
    if (!(await useSecondFactor(deps.db, deps.mfa, user.id, request.code))) {
      await deps.throttle.recordFailure(username, clientAddress);
      throw new ApiError('invalid_code', 'Wrong or already used code');
    }
  }
  await deps.throttle.recordSuccess(username);
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
  if (!user?.active) throw new ApiError('invalid_credentials', 'Sign in again');
  const wait = await deps.throttle.retryAfter(user.username, request.clientAddress);
  if (wait !== undefined) {
    throw new ApiError('rate_limited', `Too many failed sign-ins; try again in ${wait} seconds`, undefined, {
      'Retry-After': String(wait),
    });
  }
  if (!(await useSecondFactor(deps.db, deps.mfa, user.id, request.code))) {
    await deps.throttle.recordFailure(user.username, request.clientAddress);
    throw new ApiError('invalid_code', 'Wrong or already used code');
  }
  await deps.throttle.recordSuccess(user.username);
  return openSession(deps, user, request);
}
