import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';

export interface ThrottleLimits {
  /** Failed sign-ins for one username from one client address in the window (the strict limit). */
  perUsernameAndAddress: number;
  /**
   * Failed sign-ins for one username from every address together: a much larger budget that caps
   * guessing spread over many addresses without letting one address lock the account.
   */
  perUsername: number;
  /** Failed sign-ins from one client address, whatever the usernames. */
  perAddress: number;
  windowSeconds: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = {
  perUsernameAndAddress: 5,
  perUsername: 100,
  perAddress: 50,
  windowSeconds: 15 * 60,
};

/** An attempt that holds one point of every budget; a successful sign-in hands them back. */
export interface SignInAttempt {
  readonly allowed: true;
  succeeded(): Promise<void>;
  /**
   * Hands this attempt's points back without starting the pair afresh: for a step that proved
   * nothing wrong but is not a whole sign-in yet (a right password that still needs its code).
   */
  released(): Promise<void>;
}

export type AttemptResult = SignInAttempt | { readonly allowed: false; readonly retryAfter: number };

type Budget = readonly [limiter: RateLimiterAbstract, key: string];

/**
 * Sign-in throttling (rate-limiter-flexible), in Redis when there is one (shared by every
 * instance), in process otherwise. Every attempt takes its points atomically BEFORE the password
 * is checked, so a burst of concurrent attempts is evaluated at most up to the limit; a successful
 * sign-in gives its points back, so in effect only failures count. Usernames arrive already
 * normalised (the database's `username_key`), so every spelling of one account shares its budgets.
 */
export class LoginThrottle {
  readonly limits: ThrottleLimits;
  readonly #byPair: RateLimiterAbstract;
  readonly #byUsername: RateLimiterAbstract;
  readonly #byAddress: RateLimiterAbstract;

  constructor(limits: Partial<ThrottleLimits> = {}, redis?: { client: Redis; prefix: string }) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    const make = (name: string, points: number): RateLimiterAbstract => {
      const options = { points, duration: this.limits.windowSeconds, keyPrefix: `login:${name}` };
      if (!redis) return new RateLimiterMemory(options);
      return new RateLimiterRedis({
        ...options,
        keyPrefix: `${redis.prefix}:login:${name}`,
        storeClient: redis.client,
        // If Redis is unreachable, keep throttling in this process rather than failing sign-ins.
        insuranceLimiter: new RateLimiterMemory(options),
      });
    };
    this.#byPair = make('pair', this.limits.perUsernameAndAddress);
    this.#byUsername = make('user', this.limits.perUsername);
    this.#byAddress = make('addr', this.limits.perAddress);
  }

  /**
   * Takes one attempt for `usernameKey` from `address`: from the address's budget, then the
   * (username, address) one, then the username's. The first budget that is spent refuses the
   * attempt, and the points already taken for it are given back, so an attempt that is refused
   * costs nothing: one address hammering a username spends only its own budgets, never the
   * username's shared one.
   */
  async attempt(usernameKey: string, address: string): Promise<AttemptResult> {
    const budgets: Budget[] = [
      [this.#byAddress, address],
      [this.#byPair, JSON.stringify([usernameKey, address])],
      [this.#byUsername, usernameKey],
    ];
    const taken: Budget[] = [];
    for (const budget of budgets) {
      try {
        await budget[0].consume(budget[1], 1);
        taken.push(budget);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        // consume() counted this refused point too: give every point of this attempt back.
        await giveBack([...taken, budget]);
        return { allowed: false, retryAfter: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) };
      }
    }
    const [byAddress, byPair, byUsername] = taken as [Budget, Budget, Budget];
    return {
      allowed: true,
      // The pair starts afresh; the username's and the address's points are handed back, not
      // reset: a real user signing in now and then must not wipe out guesses made by others.
      succeeded: async () => {
        await Promise.all([byPair[0].delete(byPair[1]), giveBack([byAddress, byUsername])]);
      },
      released: () => giveBack([byAddress, byPair, byUsername]),
    };
  }
}

async function giveBack(budgets: Budget[]): Promise<void> {
  await Promise.all(budgets.map(([limiter, key]) => limiter.reward(key, 1)));
}
