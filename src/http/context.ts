import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { Actor } from '../auth/actor.ts';
import type { SecretBox } from '../auth/secret-box.ts';
import type { SignInCache } from '../auth/sign-in-cache.ts';
import type { LoginThrottle } from '../auth/throttle.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { Dashboard } from '../dashboard/metrics.ts';
import type { Database } from '../db/database.ts';
import type { UserRow } from '../db/schema/users.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Asset } from './assets.ts';
import { ApiError } from './errors.ts';

/** Long-lived clients and settings, built once at start-up and handed to `createApp`. */
export interface AppDeps {
  database: Database;
  tokens: TokenService;
  throttle: LoginThrottle;
  logger: Logger;
  /** Trust proxy headers for the client address and host (only behind Fly's proxy or another). */
  trustProxy: boolean;
  /** The client's address from the connection (the Node adapter knows it; `app.request` does not). */
  connectionAddress?: (c: Context) => string | undefined;
  /** Closes realtime sockets of a sign-in on every instance (logout, password reset). */
  revokeRealtime?: (userId: number, authSessionId?: string) => Promise<void>;
  /** Publishes a user's document afresh after a change the change log does not see (notifications read). */
  refreshRealtime?: (userId: number) => Promise<void>;
  /**
   * The dashboard document the realtime engine keeps for a user, if it keeps one now (not checked
   * for freshness: src/dashboard/current.ts does that).
   */
  storedDashboard?: (userId: number) => Promise<Dashboard | undefined>;
  /** Fingerprinted static assets, read once at start-up (src/http/assets.ts). */
  assets?: Map<string, Asset>;
  /** Extra readiness checks (Redis), by name. */
  readiness?: Record<string, () => Promise<void>>;
  /** Prometheus instruments served at /metrics (one registry per process). */
  metrics: Metrics;
  /**
   * Seals two-factor secrets at rest (key from MFA_ENCRYPTION_KEY). Without one, `createApp`
   * makes a process-local key: fine for tests, useless across restarts or instances.
   */
  mfa?: SecretBox;
  /**
   * Sign-ins this instance may answer without the database (src/auth/sign-in-cache.ts); none:
   * every request reads its sign-in (PostgreSQL without Redis, where instances share no bus).
   */
  signInCache?: SignInCache | undefined;
}

export interface AppEnv {
  Variables: {
    actor: Actor | undefined;
    /** The signed-in user's row as the sign-in check read it on this request (GET /api/me answers it). */
    signInUser: UserRow | undefined;
    authVia: 'bearer' | 'cookie' | undefined;
    /** A token was presented but is expired, revoked or invalid. */
    staleToken: boolean;
    /** The signed-in user must change their password before anything else. */
    mustChangePassword: boolean;
    requestId: string;
  };
}

export type App = OpenAPIHono<AppEnv>;

/** The signed-in actor; the auth middleware guarantees one on every non-public route. */
export function actorOf(c: Context<AppEnv>): Actor {
  const actor = c.get('actor');
  if (!actor) throw new ApiError('unauthenticated', 'Sign in first');
  return actor;
}
