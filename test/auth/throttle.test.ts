import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type AttemptResult, DEFAULT_LIMITS, LoginThrottle } from '../../src/auth/throttle.ts';
import { REDIS_URL, RUN_ID } from '../support/env.ts';

const limits = { perUsernameAndAddress: 2, perUsername: 3, perAddress: 5, windowSeconds: 60 };
const redis = new Redis(REDIS_URL);
afterAll(async () => {
  const keys = await redis.keys(`${RUN_ID}:throttle:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

const waitOf = (result: AttemptResult) => (result.allowed ? undefined : result.retryAfter);

/** The same contract for the in-process adapter and the Redis one. */
describe.each([
  ['in process', () => new LoginThrottle(limits)],
  [
    'redis',
    () => new LoginThrottle(limits, { client: redis, prefix: `${RUN_ID}:throttle:${Math.random()}` }),
  ],
] as const)('login throttle (%s)', (_name, make) => {
  it('refuses a username from one address after its failures there, not from another address', async () => {
    const throttle = make();
    for (let i = 0; i < 2; i++) expect((await throttle.attempt('alice', '10.0.0.1')).allowed).toBe(true);
    const wait = waitOf(await throttle.attempt('alice', '10.0.0.1'));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    // Refused attempts cost the username nothing: another address still has its budget.
    for (let i = 0; i < 10; i++) await throttle.attempt('alice', '10.0.0.1');
    const other = await throttle.attempt('alice', '10.0.0.2');
    expect(other.allowed).toBe(true);
  });

  it('locks a username after failures spread over many addresses, until the window ends', async () => {
    const throttle = make();
    for (let i = 0; i < 3; i++) expect((await throttle.attempt('carol', `10.0.1.${i}`)).allowed).toBe(true);
    expect(waitOf(await throttle.attempt('carol', '10.0.1.99'))).toBeGreaterThan(0);
    expect((await throttle.attempt('bob', '10.0.1.99')).allowed).toBe(true);
  });

  it('a successful sign-in gives its points back and clears its (username, address) budget', async () => {
    const throttle = make();
    expect((await throttle.attempt('dave', '10.0.2.1')).allowed).toBe(true);
    const right = await throttle.attempt('dave', '10.0.2.1');
    if (!right.allowed) throw new Error('refused');
    await right.succeeded();
    // Two more failures from that address are allowed again, then the pair is spent.
    expect((await throttle.attempt('dave', '10.0.2.1')).allowed).toBe(true);
    expect((await throttle.attempt('dave', '10.0.2.1')).allowed).toBe(true);
    expect((await throttle.attempt('dave', '10.0.2.1')).allowed).toBe(false);
  });

  it('locks an address after failures spread over many usernames', async () => {
    const throttle = make();
    for (let i = 0; i < 5; i++) await throttle.attempt(`user${i}`, '192.0.2.1');
    expect(waitOf(await throttle.attempt('someone-else', '192.0.2.1'))).toBeGreaterThan(0);
    expect((await throttle.attempt('someone-else', '192.0.2.2')).allowed).toBe(true);
  });

  it('lets at most the limit through a burst of concurrent attempts', async () => {
    const throttle = make();
    const results = await Promise.all(Array.from({ length: 40 }, () => throttle.attempt('eve', '192.0.2.9')));
    expect(results.filter((r) => r.allowed)).toHaveLength(2);
  });
});

it('defaults: 5 per (username, address), 100 per username, 50 per address, in 15 minutes', () => {
  expect(DEFAULT_LIMITS).toEqual({
    perUsernameAndAddress: 5,
    perUsername: 100,
    perAddress: 50,
    windowSeconds: 900,
  });
});

describe('login throttle in Redis', () => {
  it('is shared by every instance using the same prefix', async () => {
    const prefix = `${RUN_ID}:throttle:shared`;
    const a = new LoginThrottle(limits, { client: redis, prefix });
    const other = new Redis(REDIS_URL);
    const b = new LoginThrottle(limits, { client: other, prefix });
    await a.attempt('carol', '198.51.100.1');
    await b.attempt('carol', '198.51.100.2');
    await a.attempt('carol', '198.51.100.3');
    expect(waitOf(await b.attempt('carol', '198.51.100.4'))).toBeGreaterThan(0);
    await a.attempt('frank', '198.51.100.9');
    await b.attempt('frank', '198.51.100.9');
    expect(waitOf(await a.attempt('frank', '198.51.100.9'))).toBeGreaterThan(0);
    other.disconnect();
  });
});
