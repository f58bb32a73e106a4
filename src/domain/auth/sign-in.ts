import type { Db } from '../../db/database.js';
import { ApiError } from '../../http/errors.js';
import { findUserByUsername, toUser } from '../users.js';
import { verifyPassword } from './passwords.js';
import { createAuthSession } from './sessions.js';
import type { LoginThrottle } from './throttle.js';
import type { TokenService } from './tokens.js';

export interface SignInRequest {
  username: string;
  password: string;
  clientAddress: string;
  userAgent: string;
}

/**
 * Checks the throttle, then the password (argon2id; the same work when the user does not exist),
 * and opens a session. Failures count against both the username and the client address.
 */
export async function signIn(
  deps: { db: Db; tokens: TokenService; throttle: LoginThrottle },
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
  await deps.throttle.recordSuccess(username);
  const session = await createAuthSession(deps.db, user.id, deps.tokens.ttlSeconds, request);
  const token = await deps.tokens.sign({ userId: user.id, sessionId: session.id }, session.expiresAt);
  return { token, expires_at: session.expiresAt.toISOString(), user: toUser(user) };
}
