import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { api, signIn } from '../support/live-client.ts';

/** The portal's sign-in limits (docs/security.md), written out so that a change to them is deliberate. */
const LIMITS = { perUsernameAndAddress: 5, perUsername: 100, perAddress: 50, windowSeconds: 900 };

const PW = 'a-long-user-password';
const WRONG = 'not the right password at all';

/**
 * Sign-in throttling on a real cluster: two portal processes sharing one PostgreSQL and one Redis
 * (the throttle's budgets live in Redis), behind a trusted proxy that sets Fly-Client-IP.
 */
describe('sign-in throttling across two instances (PostgreSQL + Redis)', () => {
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;
  const login = async (on: Instance, username: string, password: string, address: string) => {
    const res = await fetch(`${on.base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'fly-client-ip': address },
      body: JSON.stringify({ username, password }),
    });
    const body = (await res.json()) as { user?: { id: number; username: string }; error?: { code: string } };
    return { status: res.status, body, retryAfter: res.headers.get('retry-after') };
  };
  const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

  beforeAll(async () => {
    cluster = await startCluster(2, { env: { TRUST_PROXY: '1' } });
    [a, b] = cluster.instances as [Instance, Instance];
    const admin = await signIn(a.base, ADMIN.username, ADMIN.password);
    for (const username of ['victor', 'wanda', 'ines']) {
      const created = await api(a.base, admin, 'POST', '/api/users', {
        username,
        password: PW,
        role: 'user',
      });
      expect(created.status).toBe(201);
    }
  }, 120_000);
  afterAll(() => cluster?.stop());

  it('30 concurrent wrong passwords over both instances: at most the limit are evaluated', async () => {
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login(i % 2 ? a : b, 'victor', WRONG, '198.51.100.1')),
    );
    const statuses = burst.map((r) => r.status);
    expect(count(statuses, 401) + count(statuses, 429), statuses.join(',')).toBe(30);
    expect(count(statuses, 401)).toBeLessThanOrEqual(LIMITS.perUsernameAndAddress);
    expect(count(statuses, 401)).toBeGreaterThan(0);
    for (const r of burst.filter((r) => r.status === 429)) {
      expect(r.body.error?.code).toBe('rate_limited');
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
    }
    // The right password from that address waits, on either instance...
    expect((await login(a, 'victor', PW, '198.51.100.1')).status).toBe(429);
    expect((await login(b, 'victor', PW, '198.51.100.1')).status).toBe(429);
    // ...but the owner, from an unrelated address, signs in.
    expect((await login(b, 'victor', PW, '203.0.113.2')).status).toBe(200);
  });

  it('150 concurrent wrong passwords from 150 addresses stop at the username budget', async () => {
    const burst = await Promise.all(
      Array.from({ length: 150 }, (_, i) => login(i % 2 ? a : b, 'wanda', WRONG, `10.20.${i}.1`)),
    );
    const statuses = burst.map((r) => r.status);
    expect(count(statuses, 401) + count(statuses, 429), statuses.join(',')).toBe(150);
    expect(count(statuses, 401)).toBe(LIMITS.perUsername);
    expect((await login(a, 'wanda', PW, '10.21.0.1')).status).toBe(429);
  });

  it('username variants share one account and one budget on PostgreSQL', async () => {
    const variants = ['İnes', 'INES', 'ＩＮＥＳ', 'ines', 'Ines'];
    const statuses = [];
    for (const [i, variant] of variants.entries())
      statuses.push((await login(i % 2 ? a : b, variant, WRONG, '198.51.100.5')).status);
    expect(statuses).toEqual(Array(LIMITS.perUsernameAndAddress).fill(401));
    expect((await login(a, 'ines', PW, '198.51.100.5')).status).toBe(429);
    const elsewhere = await login(b, 'İnes', PW, '198.51.100.6');
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.user?.username).toBe('ines');
  });
});
