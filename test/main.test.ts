import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/net.ts';
import { freshPgDatabase } from './support/pg.ts';

/** Starts the real entry point (`npm start` runs the same file) and collects what it prints. */
function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, HOST: '127.0.0.1', LOG_LEVEL: 'warn', METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { text: '' };
  child.stdout.on('data', (d) => (out.text += d));
  child.stderr.on('data', (d) => (out.text += d));
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (out.text.includes('is running')) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(timer);
      reject(new Error(`exited ${code}: ${out.text}`));
    });
  });
  return { child, out, ready };
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

describe('npm start in embedded mode (zero configuration)', () => {
  let port: number;
  let server: ReturnType<typeof start>;
  beforeAll(async () => {
    port = await freePort();
    server = start({ DATABASE_URL: 'memory://', PORT: String(port) });
    await server.ready;
  }, 60_000);
  afterAll(() => stop(server.child));

  it('prints where to open it, the admin sign-in once, and the demo sign-ins', () => {
    expect(server.out.text).toContain(`http://127.0.0.1:${port}/`);
    expect(server.out.text).toMatch(/Sign in as admin \/ \S{12,}/);
    expect(server.out.text).toContain('Demo sign-ins');
  });

  it('lets the printed admin sign in and see a believable demo organisation', async () => {
    const password = server.out.text.match(/Sign in as admin \/ (\S+)/)![1]!;
    const base = `http://127.0.0.1:${port}`;
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    const metrics = (await (await fetch(`${base}/api/metrics`, { headers: auth })).json()) as any;
    expect(metrics.users_by_role.manager).toBeGreaterThanOrEqual(3);
    expect(metrics.users_by_role.user).toBeGreaterThanOrEqual(20);
    expect(Object.keys(metrics.projects).length).toBeGreaterThanOrEqual(8);
    const org = metrics.org_tasks as Record<string, number>;
    expect(Object.values(org).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(300);
    for (const status of ['todo', 'in_progress', 'blocked', 'done']) expect(org[status]).toBeGreaterThan(0);
    const overdue = (await (
      await fetch(`${base}/api/tasks?overdue=true&limit=1`, { headers: auth })
    ).json()) as any;
    const upcoming = (await (
      await fetch(`${base}/api/tasks?overdue=false&limit=1`, { headers: auth })
    ).json()) as any;
    expect(overdue.total).toBeGreaterThan(0);
    expect(upcoming.total).toBeGreaterThan(0);
    expect(Object.values(metrics.completed_by_day as Record<string, number>).some((n) => n > 0)).toBe(true);
    // The demo accounts work with the printed demo password.
    const demo = server.out.text.match(/password for all: (\S+)\):\n\s+managers: ([^,\s]+)/)!;
    const managerLogin = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: demo[2], password: demo[1] }),
    });
    expect(managerLogin.status).toBe(200);
  });
});

describe('several instances starting at once on one empty PostgreSQL', () => {
  it('create exactly one admin from PORTAL_ADMIN_* and migrate once', async () => {
    const db = await freshPgDatabase('boot');
    const env = {
      DATABASE_URL: db.url,
      PORTAL_ADMIN_USERNAME: 'chief',
      PORTAL_ADMIN_PASSWORD: 'a-long-admin-password',
      JWT_SECRET: 'x'.repeat(40),
      MFA_ENCRYPTION_KEY: 'm'.repeat(40),
      REDIS_URL: 'redis://127.0.0.1:6379',
    };
    // PORT=0: each process gets a free port of its own (random picks could collide).
    const servers = [0, 1, 2].map(() => start({ ...env, PORT: '0' }));
    try {
      await Promise.all(servers.map((s) => s.ready));
      const created = servers.filter((s) => s.out.text.includes('Admin created: chief')).length;
      expect(created).toBe(1);
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      const users = await client.query('select username, role from users');
      await client.end();
      expect(users.rows).toEqual([{ username: 'chief', role: 'admin' }]);
    } finally {
      await Promise.all(servers.map((s) => stop(s.child)));
      await db.drop();
    }
  }, 90_000);
});
