import type { Page } from 'playwright-core';
import type { Instance } from '../support/cluster.ts';
import { type ApiTask, expect, PASSWORD as PW, test } from '../support/fixtures.ts';
import { api, signIn } from '../support/live-client.ts';

/** Generous: eight helpers share two cores here. The notice's own latency is printed. */
const POLL = { timeout: 10_000, interval: 50 };

test.override({
  cluster: { count: 2 },
  cast: { mona: 'manager', alice: 'user' },
  plan: { project: { name: 'Launch' }, by: 'mona', tasks: [] },
});

/**
 * Notifications in Chromium: a user's open pages (on two instances) show a notice as soon as a
 * manager assigns them a task, the bell's count goes up on each, survives a reload and a new
 * sign-in, and goes to 0 everywhere when read on one page.
 */
test.describe('notifications in the browser', () => {
  let one: Instance;
  let two: Instance;
  let manager: string;
  let project: number;
  let aliceId: number;
  test.beforeAll(async ({ portal, people, world }) => {
    [one, two] = portal.instances as [Instance, Instance];
    manager = await people.token('mona');
    project = world.project.id;
    aliceId = people.get('alice').id;
  });

  const count = (page: Page) => page.locator('[data-bell-count]');
  const assign = async (title: string) => {
    const res = await api<ApiTask>(two.base, manager, 'POST', '/api/tasks', {
      project_id: project,
      title,
      assignee_id: aliceId,
    });
    expect(res.status).toBe(201);
  };

  test('shows a notice on every open page at once, counts it, keeps it, and clears it when read', async ({
    pageAs,
    problems,
  }) => {
    const dashboard = await pageAs('alice', { instance: one });
    const device = dashboard.context();
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
    const later = await pageAs('alice', { instance: two });
    const laptop = later.context();
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

  test('tells nobody about their own action', async ({ pageAs, problems }) => {
    const page = await pageAs('mona', { instance: two });
    const device = page.context();
    await page.locator('[data-bell][data-unread="0"]').waitFor({ timeout: 10_000 });
    const alice = await signIn(one.base, 'alice', PW);
    await assign('My own doing');
    // Alice hears of it (so the change went through the stream) ...
    await expect
      .poll(
        async () =>
          (await api<{ notifications: { unread: number } }>(one.base, alice, 'GET', '/api/metrics')).body
            .notifications.unread,
      )
      .toBe(1);
    // ... and Mona, who did it, has nothing.
    expect(await page.locator('[data-bell-list] li').count()).toBe(0);
    expect(await count(page).isHidden()).toBe(true);
    expect(problems).toEqual([]);
    await device.close();
  });
});
