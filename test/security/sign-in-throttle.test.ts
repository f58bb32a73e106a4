import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type Client, client } from '../support/client.ts';
import { expectErrorBody } from '../support/errors.ts';
import { makeWorld, PASSWORD, type World } from '../support/world.ts';

/** The portal's sign-in limits (docs/security.md), written out so that a change to them is deliberate. */
const LIMITS = { perUsernameAndAddress: 5, perUsername: 100, perAddress: 50, windowSeconds: 900 };

const WRONG = 'not the right password at all';

/** How many of these sign-in answers were evaluated (401) and how many refused (429); nothing else. */
function tally(statuses: number[]) {
  const evaluated = statuses.filter((s) => s === 401).length;
  const refused = statuses.filter((s) => s === 429).length;
  expect(evaluated + refused, `statuses ${statuses.join(',')}`).toBe(statuses.length);
  return { evaluated, refused };
}

/**
 * Sign-in throttling on the embedded portal (PGlite, in-process limiter, the default limits), as
 * an attacker meets it: bursts of concurrent guesses, locking a victim out from one address,
 * guesses spread over many addresses, and rotating client-supplied address headers.
 */
describe('sign-in throttling (embedded)', () => {
  let ctx: TestApp;
  let w: World;
  let anon: Client;
  const login = (username: string, password: string, address: string, headers: Record<string, string> = {}) =>
    anon.post('/api/auth/login', { username, password }, { 'fly-client-ip': address, ...headers });

  beforeAll(async () => {
    ctx = await startTestApp('pglite'); // the default limits, behind a trusted proxy
    w = await makeWorld(ctx);
    anon = client(ctx);
  }, 300_000); // PGlite creates its cluster in WASM: slow on a busy machine
  afterAll(() => ctx?.close());

  it('a burst of 150 concurrent wrong passwords is evaluated at most up to the limit; the rest are 429', async () => {
    const burst = await Promise.all(
      Array.from({ length: 150 }, () => login('ursula', WRONG, '198.51.100.10')),
    );
    const { evaluated, refused } = tally(burst.map((r) => r.status));
    expect(evaluated).toBeLessThanOrEqual(LIMITS.perUsernameAndAddress);
    expect(evaluated).toBeGreaterThan(0);
    expect(refused).toBe(150 - evaluated);
    for (const r of burst.filter((r) => r.status === 429)) {
      expectErrorBody(r, 429);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    // The right password from that address is refused too: the burst did not slip a guess past.
    expect((await login('ursula', PASSWORD, '198.51.100.10')).status).toBe(429);
  });

  it('wrong passwords from one address do not lock the admin out: the right one from elsewhere signs in', async () => {
    for (let i = 0; i < LIMITS.perUsernameAndAddress; i++) {
      expect((await login('root', `${WRONG} ${i}`, '203.0.113.66')).status).toBe(401);
    }
    // The attacker keeps trying, long past the limit: each try is refused and costs the victim nothing.
    const more = await Promise.all(Array.from({ length: 60 }, () => login('root', WRONG, '203.0.113.66')));
    expect(tally(more.map((r) => r.status)).evaluated).toBe(0);
    expect((await login('root', PASSWORD, '203.0.113.66')).status).toBe(429);
    const admin = await login('root', PASSWORD, '192.0.2.200');
    expect(admin.status, admin.text).toBe(200);
    expect(admin.body.user.id).toBe(w.admin.id);
  });

  it('guesses spread over many addresses stop at the username budget, whatever the address', async () => {
    const { perUsernameAndAddress, perUsername } = LIMITS;
    const addresses = Math.ceil(perUsername / perUsernameAndAddress) + 2;
    const statuses: number[] = [];
    for (let a = 0; a < addresses; a++) {
      const tries = Array.from({ length: perUsernameAndAddress }, () => login('mara', WRONG, `10.9.${a}.1`));
      statuses.push(...(await Promise.all(tries)).map((r) => r.status));
    }
    expect(tally(statuses).evaluated).toBe(perUsername);
    // Now even the right password from a new address waits for the window to end.
    const locked = await login('mara', PASSWORD, '10.9.250.1');
    expectErrorBody(locked, 429);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(LIMITS.windowSeconds);
  });

  it('one address is still limited across usernames', async () => {
    const names = Array.from({ length: LIMITS.perAddress }, (_, i) => `nobody${i}`);
    const statuses = [];
    for (const name of names) statuses.push((await login(name, WRONG, '198.51.100.77')).status);
    expect(tally(statuses).evaluated).toBe(LIMITS.perAddress);
    expect((await login('ulrich', PASSWORD, '198.51.100.77')).status).toBe(429);
    expect((await login('ulrich', PASSWORD, '198.51.100.78')).status).toBe(200);
  });

  it('rotating the left-most X-Forwarded-For entry does not give a new address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await anon.post(
        '/api/auth/login',
        { username: 'mbeck', password: WRONG },
        // No Fly-Client-IP: the address is the hop our proxy appended (right-most), not the client's claim.
        { 'x-forwarded-for': `10.66.${i}.${i}, 203.0.113.5` },
      );
      statuses.push(res.status);
    }
    expect(tally(statuses).evaluated).toBe(LIMITS.perUsernameAndAddress);
    // Fly-Client-IP, set by Fly's proxy, wins over X-Forwarded-For.
    const fly = await anon.post(
      '/api/auth/login',
      { username: 'mbeck', password: PASSWORD },
      { 'fly-client-ip': '203.0.113.6', 'x-forwarded-for': '203.0.113.5' },
    );
    expect(fly.status, fly.text).toBe(200);
    // The address recorded on the session is that one too, not a client-written one.
    const xff = await anon.post(
      '/api/auth/login',
      { username: 'mbeck', password: PASSWORD },
      { 'x-forwarded-for': '6.6.6.6, 203.0.113.9' },
    );
    expect(xff.status).toBe(200);
    const sessions = await client(ctx, xff.body.token).get('/api/me/sessions');
    const current = sessions.body.items.find((s: { current: boolean }) => s.current);
    expect(current.client_address).toBe('203.0.113.9');
  });
});
