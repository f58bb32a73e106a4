/**
 * CSV export at volume: 1,000,000 tasks on real PostgreSQL, exported through the portal's
 * GET /api/tasks/export.csv (in-process app, streamed), against a yardstick of psql's own
 * `\copy … to stdout csv` of the same rows in the same run. Prints time, bytes and peak RSS.
 *
 *   npm run bench:export            (ROWS=200000 npm run bench:export for a quicker run)
 */
import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createApp } from '../../src/app.ts';
import { LoginThrottle } from '../../src/auth/throttle.ts';
import { TokenService } from '../../src/auth/tokens.ts';
import { openDatabase } from '../../src/db/open.ts';
import { createMetrics } from '../../src/observability/metrics.ts';
import { createUser } from '../../src/users/rules.ts';
import { freshBenchDatabase, machine } from './support.ts';

const ROWS = Number(process.env.ROWS ?? 1_000_000);

async function main() {
  const fresh = await freshBenchDatabase('export');
  const database = await openDatabase({ driver: 'pg', url: fresh.url });
  try {
    const { db } = database;
    const admin = await createUser(db, null, {
      username: 'bench-admin',
      password: 'a long enough bench password',
      role: 'admin',
    });
    const seedStart = performance.now();
    const pgc = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', fresh.url];
    execFileSync('psql', [
      ...pgc,
      '-c',
      `insert into projects (name, owner_id) values ('Bench', ${admin.id});
       alter table tasks disable trigger user;
       insert into tasks (project_id, title, status, priority, assignee_id, due_date)
         select 1, 'Task ' || g || case when g % 10 = 0 then ', with "quotes"' else '' end,
                (array['todo','in_progress','blocked','done'])[1 + g % 4]::task_status,
                (array['low','medium','high','urgent'])[1 + g % 4]::task_priority,
                ${admin.id}, date '2026-01-01' + (g % 365)
           from generate_series(1, ${ROWS}) g;
       alter table tasks enable trigger user;`,
      '-c',
      'vacuum analyze tasks',
    ]);
    const seedMs = performance.now() - seedStart;

    const sink = new Writable({ write: (_c, _e, done) => done() });
    const app = createApp({
      database,
      tokens: new TokenService(crypto.randomUUID() + crypto.randomUUID(), 3600),
      throttle: new LoginThrottle(),
      logger: pino({ level: 'warn' }, sink),
      trustProxy: false,
      metrics: createMetrics(),
    });
    const login = await app.request('http://bench.local/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', host: 'bench.local' },
      body: JSON.stringify({ username: 'bench-admin', password: 'a long enough bench password' }),
    });
    const { token } = (await login.json()) as { token: string };

    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    const start = performance.now();
    const res = await app.request('http://bench.local/api/tasks/export.csv', {
      headers: { authorization: `Bearer ${token}`, host: 'bench.local' },
    });
    let bytes = 0;
    let lines = 0;
    const reader = res.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      for (const b of value) if (b === 10) lines++;
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const portalMs = performance.now() - start;
    clearInterval(sampler);

    const copyStart = performance.now();
    const copied = execFileSync(
      'psql',
      [
        ...pgc,
        '-c',
        `\\copy (select id, project_id, title, status, priority, assignee_id, due_date, created_at, updated_at, completed_at from tasks order by id) to stdout with (format csv, header)`,
      ],
      { maxBuffer: 1024 * 1024 * 1024 },
    );
    const copyMs = performance.now() - copyStart;

    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    console.log(`date: ${new Date().toISOString()}`);
    console.log(`machine: ${machine()}`);
    console.log(`rows: ${ROWS} (seeded in ${(seedMs / 1000).toFixed(1)} s with generate_series)`);
    console.log(
      `portal GET /api/tasks/export.csv: ${(portalMs / 1000).toFixed(2)} s, ${lines - 1} data lines, ${mb(bytes)}, ` +
        `${Math.round((ROWS / portalMs) * 1000)} rows/s, RSS ${mb(rssBefore)} before, peak ${mb(peakRss)} (+${mb(peakRss - rssBefore)})`,
    );
    console.log(
      `yardstick psql \\copy … to stdout csv: ${(copyMs / 1000).toFixed(2)} s, ${mb(copied.byteLength)}`,
    );
    console.log(`ratio portal / psql: ${(portalMs / copyMs).toFixed(1)}×`);
    if (lines - 1 !== ROWS) throw new Error(`expected ${ROWS} rows, got ${lines - 1}`);
  } finally {
    await database.close();
    await fresh.drop();
  }
}

await main();
