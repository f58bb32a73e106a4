import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice, signInWithForm } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';

/** The admin's activity feed stays live; nobody else has one. */
describe('audit feed in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  let admin: string;
  const problems: string[] = [];
  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    await api(inst.base, admin, 'POST', '/api/users', { username: 'maren', password: PW, role: 'manager' });
    await api(inst.base, admin, 'POST', '/api/users', { username: 'uwe', password: PW, role: 'user' });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  async function open(username: string, password: string, path: string): Promise<Page> {
    const page = await (await openDevice(browser, inst.base, problems)).newPage();
    await signInWithForm(page, inst.base, username, password, path);
    return page;
  }

  it('shows new changes as they happen, with who made them, including writes from outside', {
    timeout: 60_000,
  }, async () => {
    const page = await open(ADMIN.username, ADMIN.password, '/audit');
    await page.waitForSelector('[data-connection="live"]');
    expect(await page.locator('nav a[href="/audit"]').count()).toBe(1);
    const manager = await signIn(inst.base, 'maren', PW);
    const project = await api(inst.base, manager, 'POST', '/api/projects', { name: 'Audited live' });
    await page.waitForFunction(
      (id) =>
        document.querySelector('[data-audit] tbody tr td:nth-child(3)')?.textContent === `project ${id}`,
      project.body.id,
      { timeout: 3000 },
    );
    expect(await page.textContent('[data-audit] tbody tr td:nth-child(2)')).toBe('maren');

    const sql = new pg.Client({ connectionString: cluster.databaseUrl });
    await sql.connect();
    await sql.query(`update projects set name = 'Renamed by psql' where id = $1`, [project.body.id]);
    await sql.end();
    await page.waitForFunction(
      () =>
        document.querySelector('[data-audit] tbody tr td:nth-child(2)')?.textContent === 'outside the portal',
      undefined,
      { timeout: 3000 },
    );
    expect(await page.textContent('[data-audit] tbody tr td:nth-child(4)')).toBe('changed name');
  });

  it('does not exist for other roles, and is not in their menu', { timeout: 60_000 }, async () => {
    const page = await open('uwe', PW, '/dashboard');
    expect(await page.locator('nav a[href="/audit"]').count()).toBe(0);
    const res = await page.goto(`${inst.base}/audit`);
    expect(res?.status()).toBe(404);
  });

  it('raised no console errors (no CSP violations from htmx or Chart.js) and made no request outside the portal', () => {
    expect(problems.filter((p) => !p.includes('404'))).toEqual([]);
  });
});
