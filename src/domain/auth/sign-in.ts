import type { Db } from '../../db/database.js';
import { ApiError } from '../../http/errors.js';
import { findUserByKey, toUser, usernameKey } from '../users.js';
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
 * Takes a sign-in attempt from the throttle (before any password is checked, so concurrent
 * attempts cannot slip past it), then checks the password (argon2id; the same work when the user
 * does not exist) and opens a session. The throttle counts the username as the database
 * normalises it, so every spelling of one account shares one budget.
 */
export async function signIn(
  deps: { db: Db; tokens: TokenService; throttle: LoginThrottle },
  request: SignInRequest,
) {
  const { username, password, clientAddress } = request;
  const key = await usernameKey(deps.db, username);
  const attempt = await deps.throttle.attempt(key, clientAddress);
  if (!attempt.allowed) {
    const wait = attempt.retryAfter;
    throw new ApiError('rate_limited', `Too many failed sign-ins; try again in ${wait} seconds`, undefined, {
      'Retry-After': String(wait),
    });
  }
  const user = await findUserByKey(deps.db, key);
  const ok = await verifyPassword(user?.password_hash, password);
  if (!user || !ok) throw new ApiError('invalid_credentials', 'Wrong username or password');
  if (!user.active) throw new ApiError('account_deactivated', 'This account is deactivated; ask an admin');
  await attempt.succeeded();
  const session = await createAuthSession(deps.db, user.id, deps.tokens.ttlSeconds, request);
  const token = await deps.tokens.sign({ userId: user.id, sessionId: session.id }, session.expiresAt);
  return { token, expires_at: session.expiresAt.toISOString(), user: toUser(user) };
}
