import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/domain/auth/throttle.js';
import { REDIS_URL, RUN_ID } from '../support/env.js';

const limits = { perUsername: 3, perAddress: 5, windowSeconds: 60 };
const redis = new Redis(REDIS_URL);
afterAll(async () => {
  const keys = await redis.keys(`${RUN_ID}:throttle:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

/** The same contract for the in-process adapter and the Redis one. */
describe.each([
  ['in process', () => new LoginThrottle(limits)],
  [
    'redis',
    () => new LoginThrottle(limits, { client: redis, prefix: `${RUN_ID}:throttle:${Math.random()}` }),
  ],
] as const)('login throttle (%s)', (_name, make) => {
  it('locks a username after its failures, whatever the address, until a success clears it', async () => {
    const throttle = make();
    for (let i = 0; i < 3; i++) {
      expect(await throttle.retryAfter('Alice', `10.0.0.${i}`)).toBeUndefined();
      await throttle.recordFailure('Alice', `10.0.0.${i}`);
    }
    const wait = await throttle.retryAfter('alice', '10.0.0.99');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(await throttle.retryAfter('bob', '10.0.0.99')).toBeUndefined();
    await throttle.recordSuccess('ALICE');
    expect(await throttle.retryAfter('alice', '10.0.0.99')).toBeUndefined();
  });

  it('locks an address after failures spread over many usernames', async () => {
    const throttle = make();
    for (let i = 0; i < 5; i++) await throttle.recordFailure(`user${i}`, '192.0.2.1');
    expect(await throttle.retryAfter('someone-else', '192.0.2.1')).toBeGreaterThan(0);
    expect(await throttle.retryAfter('someone-else', '192.0.2.2')).toBeUndefined();
  });
});

describe('login throttle in Redis', () => {
  it('is shared by every instance using the same prefix', async () => {
    const prefix = `${RUN_ID}:throttle:shared`;
    const a = new LoginThrottle(limits, { client: redis, prefix });
    const other = new Redis(REDIS_URL);
    const b = new LoginThrottle(limits, { client: other, prefix });
    await a.recordFailure('carol', '198.51.100.1');
    await b.recordFailure('carol', '198.51.100.2');
    await a.recordFailure('carol', '198.51.100.3');
    expect(await b.retryAfter('carol', '198.51.100.4')).toBeGreaterThan(0);
    other.disconnect();
  });
});
