import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice, signInWithForm } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';

/** The live dashboards in a real browser (Debian's Chromium), against real instances. */
describe('dashboards in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  let admin: string;
  let sql: pg.Client;
  const problems: string[] = [];
  let ids: { user: number; manager: number; project: number; task: number };

  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const manager = await api(inst.base, admin, 'POST', '/api/users', {
      username: 'mona',
      password: PW,
      role: 'manager',
    });
    const user = await api(inst.base, admin, 'POST', '/api/users', {
      username: 'ulla',
      password: PW,
      role: 'user',
    });
    const project = await api(inst.base, admin, 'POST', '/api/projects', {
      name: 'Launch',
      owner_id: manager.body.id,
    });
    const task = await api(inst.base, admin, 'POST', '/api/tasks', {
      project_id: project.body.id,
      title: 'Ship',
      assignee_id: user.body.id,
    });
    ids = { user: user.body.id, manager: manager.body.id, project: project.body.id, task: task.body.id };
    sql = new pg.Client({ connectionString: cluster.databaseUrl });
    await sql.connect();
  }, 90_000);
  afterAll(async () => {
    await sql?.end();
    await browser?.close();
    await cluster?.stop();
  });

  const device = () => openDevice(browser, inst.base, problems);
  async function signInAs(context: BrowserContext, username: string, password: string): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${inst.base}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await signInWithForm(page, inst.base, username, password);
    await page.waitForSelector('[data-connection="live"]');
    return page;
  }
  const metric = (page: Page, key: string) => page.textContent(`[data-metric="${key}"]`);
  /** Waits for a number to show; fails when it takes more than `ms`. */
  const shows = (page: Page, key: string, value: number, ms = 1000) =>
    page.waitForFunction(
      ([k, v]) => document.querySelector(`[data-metric="${k}"]`)?.textContent === String(v),
      [key, value] as const,
      {
        timeout: ms,
      },
    );

  it('shows each role its own dashboard and numbers', async () => {
    const context = await device();
    const adminPage = await signInAs(context, ADMIN.username, ADMIN.password);
    expect(await adminPage.locator('[data-metric^="org_tasks."]').count()).toBe(4);
    expect(await adminPage.locator('[data-metric^="users_by_role."]').count()).toBe(3);
    expect(await metric(adminPage, 'users_by_role.manager')).toBe('1');
    // The admin has no tasks: words instead of an empty ring.
    await adminPage.waitForSelector('[data-chart-empty="chart-my-tasks"]:not([hidden])');
    expect(await adminPage.isHidden('#chart-my-tasks')).toBe(true);
    expect(await adminPage.isVisible('#chart-org')).toBe(true);
    // A task of their own arrives live: the ring comes back in place of the words.
    const me = (await api(inst.base, admin, 'GET', '/api/me')).body.id as number;
    const own = await api(inst.base, admin, 'POST', '/api/tasks', {
      project_id: ids.project,
      title: 'Admin work',
      assignee_id: me,
    });
    await adminPage.waitForSelector('[data-chart-empty="chart-my-tasks"]', {
      state: 'hidden',
      timeout: 2000,
    });
    expect(await adminPage.isVisible('#chart-my-tasks')).toBe(true);
    expect((await adminPage.locator('#chart-my-tasks').boundingBox())!.height).toBeGreaterThan(50);
    await api(inst.base, admin, 'DELETE', `/api/tasks/${own.body.id}`);
    await context.close();

    const managerContext = await device();
    const managerPage = await signInAs(managerContext, 'mona', PW);
    expect(await metric(managerPage, 'team_tasks.todo')).toBe('1');
    expect(await metric(managerPage, `projects.${ids.project}.total`)).toBe('1');
    expect(await managerPage.locator('[data-metric^="org_tasks."]').count()).toBe(0);
    await managerContext.close();

    const userContext = await device();
    const userPage = await signInAs(userContext, 'ulla', PW);
    expect(await metric(userPage, 'my_tasks.todo')).toBe('1');
    expect(await userPage.isVisible('#chart-my-tasks')).toBe(true);
    expect(await userPage.isHidden('[data-chart-empty="chart-my-tasks"]')).toBe(true);
    expect(await userPage.locator('[data-metric^="team_tasks."], [data-metric^="projects."]').count()).toBe(
      0,
    );
    expect(await userPage.locator('canvas[data-chart]').count()).toBe(2);
    // The status chart names its segments as every page does (src/views/labels.ts, sent with the page).
    const statusChart = await userPage.evaluate(() => {
      type Charts = {
        getChart(el: Element | null): { data: { labels: string[]; datasets: { data: number[] }[] } };
      };
      const chart = (globalThis as unknown as { Chart: Charts }).Chart.getChart(
        document.querySelector('#chart-my-tasks'),
      );
      return { labels: chart.data.labels, data: chart.data.datasets[0]!.data };
    });
    expect(statusChart).toEqual({ labels: ['To do', 'In progress', 'Blocked', 'Done'], data: [1, 0, 0, 0] });
    await userContext.close();
  });

  it('updates two devices and two tabs within a second of a change from the API or from SQL', async () => {
    const laptop = await device();
    const phone = await device();
    const tab1 = await signInAs(laptop, 'ulla', PW);
    const tab2 = await laptop.newPage();
    await tab2.goto(`${inst.base}/dashboard`);
    await tab2.waitForSelector('[data-connection="live"]');
    const mobile = await signInAs(phone, 'ulla', PW);
    const pages = [tab1, tab2, mobile];
    const charted = await tab1.evaluate(() => document.querySelectorAll('canvas[data-chart]').length);
    expect(charted).toBe(2);

    await api(inst.base, admin, 'PATCH', `/api/tasks/${ids.task}`, { status: 'in_progress' });
    await Promise.all(pages.map((p) => shows(p, 'my_tasks.in_progress', 1)));
    await sql.query(`update tasks set status = 'done' where id = $1`, [ids.task]);
    await Promise.all(pages.map((p) => shows(p, 'my_tasks.done', 1)));
    expect(await metric(mobile, 'my_tasks.in_progress')).toBe('0');
    // No reload happened: the page still holds the same chart canvases it started with.
    expect(await tab1.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await laptop.close();
    await phone.close();
  });

  it('shows offline, then catches up with what changed meanwhile', async () => {
    const context = await device();
    const page = await signInAs(context, 'ulla', PW);
    await context.setOffline(true);
    await page.waitForSelector('[data-connection="offline"]');
    expect(await page.textContent('[data-connection-label]')).toBe(
      'Offline — showing the last known numbers',
    );
    await sql.query(`update tasks set status = 'blocked' where id = $1`, [ids.task]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await metric(page, 'my_tasks.blocked')).toBe('0');
    await context.setOffline(false);
    await page.waitForSelector('[data-connection="live"]', { timeout: 5000 });
    await shows(page, 'my_tasks.blocked', 1, 5000);
    await context.close();
  });

  it('logged no console errors and made no request outside the portal', () => {
    expect(problems).toEqual([]);
  });
});
