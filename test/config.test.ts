import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

describe('configuration', () => {
  it('runs embedded with no configuration at all', () => {
    expect(loadConfig({}).realtimeMaxSocketsPerUser).toBe(50);
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      embedded: true,
      demo: true,
      redisUrl: undefined,
      database: { driver: 'pglite', dataDir: expect.stringMatching(/^\.\/data(\/|$)/) },
      admin: { username: 'admin', password: undefined },
      sessionTtlSeconds: 300,
      heartbeatIntervalMs: 15000,
    });
  });

  it('chooses the driver from DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'memory://' }).database).toEqual({
      driver: 'pglite',
      dataDir: undefined,
    });
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db:5432/x' }).database).toEqual({
      driver: 'pg',
      url: 'postgres://u@db:5432/x',
      listenUrl: 'postgres://u@db:5432/x',
      poolMax: 10,
    });
    const neon = 'postgresql://u:p@ep-cool-1.eu-central-1.aws.neon.tech/db';
    expect(loadConfig({ DATABASE_URL: neon }).database).toEqual({
      driver: 'neon',
      url: neon,
      listenUrl: neon,
      poolMax: 10,
    });
    // A pooler for the pool, the direct endpoint for the leader's LISTEN and lock.
    const pooled = 'postgresql://u:p@ep-cool-1-pooler.eu-central-1.aws.neon.tech/db';
    expect(
      loadConfig({ DATABASE_URL: pooled, DATABASE_LISTEN_URL: neon, DATABASE_POOL_MAX: '3' }).database,
    ).toEqual({ driver: 'neon', url: pooled, listenUrl: neon, poolMax: 3 });
    expect(loadConfig({ DATABASE_URL: 'postgres://u@db/x', DATABASE_DRIVER: 'neon' }).database.driver).toBe(
      'neon',
    );
    const scaled = loadConfig({
      DATABASE_URL: 'postgres://u@db/x',
      REDIS_URL: 'redis://r:6379',
      JWT_SECRET: 's'.repeat(32),
      MFA_ENCRYPTION_KEY: 'k'.repeat(32),
    });
    expect(scaled).toMatchObject({ embedded: false, demo: false, admin: undefined });
    // Only a host under neon.tech is Neon.
    expect(loadConfig({ DATABASE_URL: 'postgres://u@neon.tech.example.com/db' }).database.driver).toBe('pg');
    expect(loadConfig({ DATABASE_URL: 'memory://', PORTAL_DEMO: '0' }).demo).toBe(false);
  });

  it('reads the values it is given, and treats an empty value as unset', () => {
    const config = loadConfig({
      PORT: '8080',
      HEARTBEAT_INTERVAL_MS: '500',
      SESSION_TTL_SECONDS: '60',
      REALTIME_MAX_SOCKETS_PER_USER: '8',
      JWT_SECRET: 'x'.repeat(40),
      HOST: '',
      DATABASE_URL: '',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      heartbeatIntervalMs: 500,
      sessionTtlSeconds: 60,
      realtimeMaxSocketsPerUser: 8,
      jwtSecret: 'x'.repeat(40),
      database: { driver: 'pglite' },
    });
    expect(config.database).not.toEqual({ driver: 'pglite', dataDir: undefined });
  });

  it('serves metrics on an internal port of their own: 9091 on HOST by default, 0 for any free port', () => {
    expect(loadConfig({}).metrics).toEqual({ port: 9091, host: '0.0.0.0' });
    expect(loadConfig({ HOST: '127.0.0.1', METRICS_PORT: '0' }).metrics).toEqual({
      port: 0,
      host: '127.0.0.1',
    });
    expect(loadConfig({ METRICS_PORT: '9100', METRICS_HOST: '::' }).metrics).toEqual({
      port: 9100,
      host: '::',
    });
    // Both 0: two different free ports.
    expect(loadConfig({ PORT: '0', METRICS_PORT: '0' }).metrics.port).toBe(0);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '80.5' }, 'PORT'],
    [{ PORT: ' ' }, 'PORT'],
    [{ DATABASE_URL: 'postgres://u:p@ep-cool-1-pooler.eu-central-1.aws.neon.tech/db' }, 'DATABASE_URL'],
    [
      {
        DATABASE_URL: 'postgres://u:p@ep-cool-1-pooler.eu-central-1.aws.neon.tech/db',
        DATABASE_LISTEN_URL: 'postgres://u:p@ep-cool-1-pooler.eu-central-1.aws.neon.tech/db',
      },
      'DATABASE_LISTEN_URL',
    ],
    [{ DATABASE_URL: 'postgres://u@db/x', DATABASE_LISTEN_URL: 'redis://r' }, 'DATABASE_LISTEN_URL'],
    [{ DATABASE_URL: 'postgres://u@db/x', DATABASE_POOL_MAX: '0' }, 'DATABASE_POOL_MAX'],
    [{ PORT: '0x1F90' }, 'PORT'],
    [{ METRICS_PORT: 'abc' }, 'METRICS_PORT'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT'],
    [{ PORT: '9091' }, 'METRICS_PORT'],
    [{ PORT: '8080', METRICS_PORT: '8080' }, 'METRICS_PORT'],
    [{ PORT: '1e3' }, 'PORT'],
    [{ REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ DATABASE_URL: 'postgres://u@db/x', REDIS_URL: 'redis://r' }, 'JWT_SECRET'],
    [{ REDIS_URL: 'redis://r' }, 'JWT_SECRET'],
    [{ DATABASE_URL: 'postgres://u@db/x', REDIS_URL: 'redis://r', JWT_SECRET: 's'.repeat(31) }, 'JWT_SECRET'],
    [{ HEARTBEAT_INTERVAL_MS: 'fast' }, 'HEARTBEAT_INTERVAL_MS'],
    [
      { DATABASE_URL: 'postgres://u@db/x', REDIS_URL: 'redis://r', JWT_SECRET: 's'.repeat(32) },
      'MFA_ENCRYPTION_KEY',
    ],
    [{ MFA_ENCRYPTION_KEY: 'short' }, 'MFA_ENCRYPTION_KEY'],
    [{ REDIS_URL: 'redis://r', JWT_SECRET: 's'.repeat(32) }, 'DATABASE_URL'],
    [{ HEARTBEAT_INTERVAL_MS: '0' }, 'HEARTBEAT_INTERVAL_MS'],
    [{ SESSION_TTL_SECONDS: '-5' }, 'SESSION_TTL_SECONDS'],
    [{ PORTAL_DEMO: 'yes' }, 'PORTAL_DEMO'],
    [{ REALTIME_MAX_SOCKETS_PER_USER: '0' }, 'REALTIME_MAX_SOCKETS_PER_USER'],
    [{ REALTIME_MAX_SOCKETS_PER_USER: 'many' }, 'REALTIME_MAX_SOCKETS_PER_USER'],
    [{ PORTAL_ADMIN_PASSWORD: 'long enough password' }, 'PORTAL_ADMIN_USERNAME'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
  ])('%o stops start-up naming %s', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^${name}: `));
  });

  it('the process prints one line naming the variable on stderr and exits non-zero', {
    timeout: 90_000,
  }, () => {
    // A clean environment, so nothing else from this shell can be the bad variable; npm's own
    // warnings (about the machine's npmrc) are silenced: only the portal's output is under test.
    const run = spawnSync('npx', ['tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, npm_config_loglevel: 'error', PORT: 'notaport' },
      encoding: 'utf8',
      timeout: 80_000,
    });
    expect(run.error).toBeUndefined();
    expect(run.signal).toBeNull();
    expect(run.status).not.toBe(0);
    const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/\bPORT\b/);
    expect(lines[0]).not.toMatch(/\bat \S+ \(/); // a sentence, not a stack trace
    expect(run.stdout).not.toContain('is running');
  });
});
