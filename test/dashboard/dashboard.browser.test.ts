import type { Page } from 'playwright-core';
import { signInWithForm } from '../support/browser.ts';
import { ADMIN } from '../support/cluster.ts';
import {
  type ApiTask,
  type ApiUser,
  expect,
  type PageAs,
  PASSWORD as PW,
  test,
} from '../support/fixtures.ts';

/** The live dashboards in a real browser (Debian's Chromium), against real instances. */
test.describe('dashboards in Chromium', () => {
  /** Signs in through the form after being sent there from the dashboard. */
  async function signInAs(pageAs: PageAs, username: string): Promise<Page> {
    const page = await pageAs(null, { path: '/dashboard' });
    expect(new URL(page.url()).pathname).toBe('/login');
    await signInWithForm(
      page,
      new URL(page.url()).origin,
      username,
      username === ADMIN.username ? ADMIN.password : PW,
    );
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

  test('shows each role its own dashboard and numbers', async ({ pageAs, portal, world }) => {
    const adminPage = await signInAs(pageAs, ADMIN.username);
    expect(await adminPage.locator('[data-metric^="org_tasks."]').count()).toBe(4);
    expect(await adminPage.locator('[data-metric^="users_by_role."]').count()).toBe(3);
    expect(await metric(adminPage, 'users_by_role.manager')).toBe('1');
    // The admin has no tasks: words instead of an empty ring.
    await adminPage.waitForSelector('[data-chart-empty="chart-my-tasks"]:not([hidden])');
    expect(await adminPage.isHidden('#chart-my-tasks')).toBe(true);
    expect(await adminPage.isVisible('#chart-org')).toBe(true);
    // A task of their own arrives live: the ring comes back in place of the words.
    const me = (await portal.api<ApiUser>('GET', '/api/me')).body.id;
    const own = await portal.api<ApiTask>('POST', '/api/tasks', {
      project_id: world.project.id,
      title: 'Admin work',
      assignee_id: me,
    });
    await adminPage.waitForSelector('[data-chart-empty="chart-my-tasks"]', {
      state: 'hidden',
      timeout: 2000,
    });
    expect(await adminPage.isVisible('#chart-my-tasks')).toBe(true);
    expect((await adminPage.locator('#chart-my-tasks').boundingBox())!.height).toBeGreaterThan(50);
    await portal.api('DELETE', `/api/tasks/${own.body.id}`);
    await adminPage.context().close();

    const managerPage = await signInAs(pageAs, 'mona');
    expect(await metric(managerPage, 'team_tasks.todo')).toBe('1');
    expect(await metric(managerPage, `projects.${world.project.id}.total`)).toBe('1');
    expect(await managerPage.locator('[data-metric^="org_tasks."]').count()).toBe(0);
    await managerPage.context().close();

    const userPage = await signInAs(pageAs, 'ulla');
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
    await userPage.context().close();
  });

  test('updates two devices and two tabs within a second of a change from the API or from SQL', async ({
    pageAs,
    portal,
    world,
  }) => {
    const tab1 = await signInAs(pageAs, 'ulla');
    const laptop = tab1.context();
    const tab2 = await laptop.newPage();
    await tab2.goto(`${portal.base}/dashboard`);
    await tab2.waitForSelector('[data-connection="live"]');
    const mobile = await signInAs(pageAs, 'ulla');
    const phone = mobile.context();
    const pages = [tab1, tab2, mobile];
    const charted = await tab1.evaluate(() => document.querySelectorAll('canvas[data-chart]').length);
    expect(charted).toBe(2);

    await portal.api('PATCH', `/api/tasks/${world.task.id}`, { status: 'in_progress' });
    await Promise.all(pages.map((p) => shows(p, 'my_tasks.in_progress', 1)));
    await portal.sql.query(`update tasks set status = 'done' where id = $1`, [world.task.id]);
    await Promise.all(pages.map((p) => shows(p, 'my_tasks.done', 1)));
    expect(await metric(mobile, 'my_tasks.in_progress')).toBe('0');
    // No reload happened: the page still holds the same chart canvases it started with.
    expect(await tab1.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await laptop.close();
    await phone.close();
  });

  test('shows offline, then catches up with what changed meanwhile', async ({ pageAs, portal, world }) => {
    const page = await signInAs(pageAs, 'ulla');
    const context = page.context();
    await context.setOffline(true);
    await page.waitForSelector('[data-connection="offline"]');
    expect(await page.textContent('[data-connection-label]')).toBe(
      'Offline — showing the last known numbers',
    );
    await portal.sql.query(`update tasks set status = 'blocked' where id = $1`, [world.task.id]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await metric(page, 'my_tasks.blocked')).toBe('0');
    await context.setOffline(false);
    await page.waitForSelector('[data-connection="live"]', { timeout: 5000 });
    await shows(page, 'my_tasks.blocked', 1, 5000);
    await context.close();
  });

  test('logged no console errors and made no request outside the portal', ({ problems }) => {
    expect(problems).toEqual([]);
  });
});
