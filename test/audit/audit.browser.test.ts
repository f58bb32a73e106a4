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
        document.querySelector('[data-audit] tbody tr [data-what] a')?.getAttribute('href') ===
        `/projects/${id}`,
      project.body.id,
      { timeout: 3000 },
    );
    // Readable: the project by name (a link to its page), the person by name.
    expect(await page.textContent('[data-audit] tbody tr [data-what]')).toBe('project Audited live');
    expect(await page.textContent('[data-audit] tbody tr [data-who]')).toBe('maren');
    expect(await page.textContent('[data-audit] tbody tr [data-how]')).toBe('created');

    const sql = new pg.Client({ connectionString: cluster.databaseUrl });
    await sql.connect();
    await sql.query(`update projects set name = 'Renamed by psql' where id = $1`, [project.body.id]);
    await sql.end();
    await page.waitForFunction(
      () =>
        document.querySelector('[data-audit] tbody tr [data-who]')?.textContent ===
        'someone outside the portal (SQL)',
      undefined,
      { timeout: 3000 },
    );
    expect(await page.textContent('[data-audit] tbody tr [data-how]')).toBe(
      'name: Audited live → Renamed by psql',
    );
  });

  it('answers "who changed task X?" with filters in the URL, and pages through the whole log', {
    timeout: 90_000,
  }, async () => {
    const manager = await signIn(inst.base, 'maren', PW);
    const project = await api(inst.base, manager, 'POST', '/api/projects', { name: 'Busy' });
    const users = (await api(inst.base, admin, 'GET', '/api/users?q=uwe')).body.items;
    const uwe = users[0].id as number;
    let last = 0;
    for (let i = 0; i < 60; i++) {
      last = (
        await api(inst.base, manager, 'POST', '/api/tasks', {
          project_id: project.body.id,
          title: `Busy ${i}`,
        })
      ).body.id;
    }
    await api(inst.base, manager, 'PATCH', `/api/tasks/${last}`, { assignee_id: uwe, status: 'blocked' });
    const page = await open(ADMIN.username, ADMIN.password, '/audit');
    await page.waitForSelector('[data-connection="live"]');
    expect(await page.textContent('[data-audit-summary]')).toMatch(/^Showing 1–50 of \d+ changes$/);
    const total = Number((await page.textContent('[data-audit-summary]'))!.split(' of ')[1]!.split(' ')[0]);
    expect(total).toBeGreaterThan(60);
    // Older pages, all the way to the first change.
    await page.click('nav.pager >> text=Older');
    await page.waitForFunction(() =>
      document.querySelector('[data-audit-summary]')?.textContent?.startsWith('Showing 51–'),
    );
    expect(page.url()).toBe(`${inst.base}/audit?offset=50`);

    // Which task, what kind: the filters go into the URL, and the answer reads as a sentence.
    await page.goto(`${inst.base}/audit`);
    await page.selectOption('#audit-entity', 'tasks');
    await page.fill('#audit-id', String(last));
    await page.waitForFunction(
      () => document.querySelector('[data-audit-summary]')?.textContent === 'Showing 1–2 of 2 changes',
    );
    expect(new URL(page.url()).search).toBe(`?entity=tasks&id=${last}`);
    const change = page.locator('[data-audit] tbody tr').first();
    expect(await change.locator('[data-who]').textContent()).toBe('maren');
    expect(await change.locator('[data-what]').textContent()).toBe(`task Busy 59`);
    expect(await change.locator('[data-what] a').getAttribute('href')).toBe(`/tasks/${last}`);
    expect(await change.locator('[data-field="assignee_id"]').textContent()).toBe('assignee: none → uwe');
    expect(await change.locator('[data-field="status"]').textContent()).toBe('status: To do → Blocked');
    // Who, and a time range: nothing tomorrow.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await page.goto(
      `${inst.base}/audit?actor=${(await api(inst.base, manager, 'GET', '/api/me')).body.id}&from=${tomorrow}`,
    );
    expect(await page.textContent('[data-audit-summary]')).toBe('No changes match.');
    expect(await page.inputValue('#audit-from')).toBe(tomorrow);
    // The API takes the same range, and refuses a malformed one with the field named.
    const today = new Date().toISOString().slice(0, 10);
    const ranged = await api(
      inst.base,
      admin,
      'GET',
      `/api/audit?entity=tasks&row_id=${last}&from=${today}&to=${today}`,
    );
    expect(ranged.body.total).toBe(2);
    expect((await api(inst.base, admin, 'GET', `/api/audit?from=${tomorrow}`)).body.total).toBe(0);
    const bad = await api(inst.base, admin, 'GET', '/api/audit?to=yesterday');
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(['to']);
  });

  it('fits a phone in dark mode', { timeout: 60_000 }, async () => {
    const page = await (
      await openDevice(browser, inst.base, problems, {
        viewport: { width: 390, height: 844 },
        colorScheme: 'dark',
      })
    ).newPage();
    await signInWithForm(page, inst.base, ADMIN.username, ADMIN.password, '/audit');
    await page.waitForSelector('[data-audit]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  it('is a 403 page with a way back for other roles, and is not in their menu', {
    timeout: 60_000,
  }, async () => {
    const page = await open('uwe', PW, '/dashboard');
    expect(await page.locator('nav a[href="/audit"]').count()).toBe(0);
    const res = await page.goto(`${inst.base}/audit`);
    expect(res?.status()).toBe(403);
    expect(await page.textContent('[data-forbidden]')).toMatch(/only for admins/);
  });

  it('raised no console errors (no CSP violations from htmx or Chart.js) and made no request outside the portal', () => {
    expect(problems.filter((p) => !p.includes('404') && !p.includes('403'))).toEqual([]);
  });
});
