import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL server of this test's own (initdb into a temporary directory, run as the
 * `postgres` user), so that a test can restart it without disturbing the shared server others use.
 */
export async function startPrivatePostgres() {
  const dir = mkdtempSync(join(tmpdir(), 'portal-pg-'));
  chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), 0);
  const data = join(dir, 'data');
  const port = await freePort();
  const asPostgres = (...args: string[]) =>
    execFileSync('runuser', ['-u', 'postgres', '--', ...args], { stdio: 'ignore' });
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`;
  asPostgres(`${BIN}/initdb`, '-D', data, '-A', 'trust', '-U', 'postgres');
  const ctl = (...args: string[]) =>
    asPostgres(`${BIN}/pg_ctl`, '-D', data, '-l', join(dir, 'log'), '-w', ...args);
  ctl('-o', options, 'start');
  asPostgres(`${BIN}/createdb`, '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'portal');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/portal`,
    /** A real restart: every connection is cut, the server comes back on the same port. */
    restart: () => ctl('-m', 'fast', '-o', options, 'restart'),
    /** Down (fast shutdown: every connection cut) until `start`. */
    down: () => ctl('-m', 'fast', 'stop'),
    start: () => ctl('-o', options, 'start'),
    stop() {
      try {
        ctl('-m', 'immediate', 'stop');
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
