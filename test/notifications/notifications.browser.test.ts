import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice, signInWithForm } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';
/** Generous: eight helpers share two cores here. The notice's own latency is printed. */
const POLL = { timeout: 10_000, interval: 50 };

/**
 * Notifications in Chromium: a user's open pages (on two instances) show a notice as soon as a
 * manager assigns them a task, the bell's count goes up on each, survives a reload and a new
 * sign-in, and goes to 0 everywhere when read on one page.
 */
describe('notifications in the browser', () => {
  let cluster: Cluster;
  let one: Instance;
  let two: Instance;
  let browser: Browser;
  let manager: string;
  let project: number;
  let aliceId: number;
  const problems: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster(2);
    [one, two] = cluster.instances as [Instance, Instance];
    browser = await launchChromium();
    const admin = await signIn(one.base, ADMIN.username, ADMIN.password);
    await api(one.base, admin, 'POST', '/api/users', { username: 'mona', password: PW, role: 'manager' });
    const alice = await api(one.base, admin, 'POST', '/api/users', {
      username: 'alice',
      password: PW,
      role: 'user',
    });
    aliceId = alice.body.id;
    manager = await signIn(two.base, 'mona', PW);
    project = (await api(two.base, manager, 'POST', '/api/projects', { name: 'Launch' })).body.id;
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  const count = (page: Page) => page.locator('[data-bell-count]');
  const assign = async (title: string) => {
    const res = await api(two.base, manager, 'POST', '/api/tasks', {
      project_id: project,
      title,
      assignee_id: aliceId,
    });
    expect(res.status).toBe(201);
  };

  it('shows a notice on every open page at once, counts it, keeps it, and clears it when read', async () => {
    const device = await openDevice(browser, one.base, problems);
    const dashboard = await device.newPage();
    await signInWithForm(dashboard, one.base, 'alice', PW);
    // A page that had no live connection of its own before the bell.
    const projects = await device.newPage();
    await projects.goto(`${one.base}/projects`);
    await expect.poll(() => count(dashboard).isHidden(), POLL).toBe(true);
    await projects.locator('[data-bell][data-unread="0"]').waitFor({ timeout: 10_000 });

    const before = Date.now();
    await assign('Write the launch post');
    for (const page of [dashboard, projects]) {
      await page.locator('.notice', { hasText: 'mona assigned you “Write the launch post”' }).waitFor({
        timeout: 10_000,
      });
      console.info(`notice shown ${Date.now() - before} ms after the assignment was sent`);
      await expect.poll(() => count(page).textContent(), POLL).toBe('1');
    }

    await assign('Check the links');
    await expect.poll(() => count(dashboard).textContent(), POLL).toBe('2');
    await dashboard.locator('[data-bell] summary').click();
    const items = dashboard.locator('[data-bell-list] li');
    await expect.poll(() => items.count(), POLL).toBe(2);
    expect(await items.first().textContent()).toContain('mona assigned you “Check the links”');

    // A reload, and a new sign-in on a fresh device: still there, no notice for old news.
    await projects.reload();
    await expect.poll(() => count(projects).textContent(), POLL).toBe('2');
    const laptop = await openDevice(browser, two.base, problems);
    const later = await laptop.newPage();
    await signInWithForm(later, two.base, 'alice', PW);
    await expect.poll(() => count(later).textContent(), POLL).toBe('2');
    expect(await later.locator('.notice').count()).toBe(0);

    // Read on one page: 0 on every page, on both devices.
    await dashboard.locator('[data-bell-read]').click();
    for (const page of [dashboard, projects, later])
      await expect.poll(() => count(page).isHidden(), POLL).toBe(true);
    expect(await count(later).textContent()).toBe('0');
    await later.reload();
    await expect.poll(() => later.locator('[data-bell-list] li').count(), POLL).toBe(2);
    expect(await count(later).isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await device.close();
    await laptop.close();
  });

  it('tells nobody about their own action', async () => {
    const device = await openDevice(browser, two.base, problems);
    const page = await device.newPage();
    await signInWithForm(page, two.base, 'mona', PW);
    await page.locator('[data-bell][data-unread="0"]').waitFor({ timeout: 10_000 });
    const alice = await signIn(one.base, 'alice', PW);
    await assign('My own doing');
    // Alice hears of it (so the change went through the stream) ...
    await expect
      .poll(async () => (await api(one.base, alice, 'GET', '/api/metrics')).body.notifications.unread)
      .toBe(1);
    // ... and Mona, who did it, has nothing.
    expect(await page.locator('[data-bell-list] li').count()).toBe(0);
    expect(await count(page).isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await device.close();
  });
});
