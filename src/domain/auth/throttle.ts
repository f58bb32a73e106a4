import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  type RateLimiterRes,
} from 'rate-limiter-flexible';

export interface ThrottleLimits {
  /** Failed sign-ins per username in the window before it is locked for the rest of the window. */
  perUsername: number;
  /** Failed sign-ins per client address in the window. */
  perAddress: number;
  windowSeconds: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = { perUsername: 5, perAddress: 50, windowSeconds: 15 * 60 };

/**
 * Sign-in throttling by username and by client address (rate-limiter-flexible), in Redis when
 * there is one (shared by every instance), in process otherwise. Only failures count.
 */
export class LoginThrottle {
  readonly #byUsername: RateLimiterAbstract;
  readonly #byAddress: RateLimiterAbstract;

  constructor(
    readonly limits: ThrottleLimits = DEFAULT_LIMITS,
    redis?: { client: Redis; prefix: string },
  ) {
    const make = (name: string, points: number): RateLimiterAbstract => {
      const options = { points, duration: limits.windowSeconds, keyPrefix: `login:${name}` };
      if (!redis) return new RateLimiterMemory(options);
      return new RateLimiterRedis({
        ...options,
        keyPrefix: `${redis.prefix}:login:${name}`,
        storeClient: redis.client,
        // If Redis is unreachable, keep throttling in this process rather than failing sign-ins.
        insuranceLimiter: new RateLimiterMemory(options),
      });
    };
    this.#byUsername = make('user', limits.perUsername);
    this.#byAddress = make('addr', limits.perAddress);
  }

  /** Seconds to wait when either key is locked, else undefined. */
  async retryAfter(username: string, address: string): Promise<number | undefined> {
    const [user, addr] = await Promise.all([
      this.#byUsername.get(username.toLowerCase()),
      this.#byAddress.get(address),
    ]);
    const locked = [
      blockedFor(user, this.limits.perUsername),
      blockedFor(addr, this.limits.perAddress),
    ].filter((s): s is number => s !== undefined);
    return locked.length ? Math.max(...locked) : undefined;
  }

  async recordFailure(username: string, address: string): Promise<void> {
    await Promise.all([
      this.#byUsername.penalty(username.toLowerCase(), 1),
      this.#byAddress.penalty(address, 1),
    ]);
  }

  async recordSuccess(username: string): Promise<void> {
    await this.#byUsername.delete(username.toLowerCase());
  }
}

function blockedFor(res: RateLimiterRes | null, points: number): number | undefined {
  if (!res || res.consumedPoints < points) return undefined;
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}
