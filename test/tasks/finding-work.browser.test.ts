import type { Page } from 'playwright-core';
import { type ApiProject, type ApiTask, expect, test } from '../support/fixtures.ts';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/** Finding work: dashboard numbers lead to their lists, filters in the URL, late work marked. */
test.override({
  cast: {
    mia: { role: 'manager', display_name: 'Mia Manager' },
    ute: { role: 'user', display_name: 'Ute Ufer' },
    udo: { role: 'user', display_name: 'Anton Udo' },
  },
});

test.describe('finding work in Chromium', () => {
  const ids: Record<string, number> = {};
  test.beforeAll(async ({ portal, people }) => {
    for (const username of ['mia', 'ute', 'udo']) ids[username] = people.get(username).id;
    const project = async (name: string, owner: number) =>
      (await portal.api<ApiProject>('POST', '/api/projects', { name, owner_id: owner })).body.id;
    ids.apollo = await project('Apollo', ids.mia!);
    ids.gemini = await project('Gemini', ADMIN_ID);
    const task = async (title: string, body: Record<string, unknown>) =>
      (await portal.api<ApiTask>('POST', '/api/tasks', { title, ...body })).body.id;
    ids.late2 = await task('Late by two', {
      project_id: ids.apollo,
      assignee_id: ids.ute,
      due_date: day(-2),
    });
    ids.late1 = await task('Late by one', {
      project_id: ids.apollo,
      assignee_id: ids.ute,
      due_date: day(-1),
    });
    ids.soon = await task('Due soon', { project_id: ids.apollo, assignee_id: ids.ute, due_date: day(1) });
    ids.doneLate = await task('Done long ago', {
      project_id: ids.apollo,
      assignee_id: ids.ute,
      due_date: day(-9),
      status: 'done',
    });
    ids.blocked = await task('Stuck', { project_id: ids.apollo, assignee_id: ids.udo, status: 'blocked' });
    ids.otherBlocked = await task('Stuck elsewhere', { project_id: ids.gemini, status: 'blocked' });
  });

  // The admin made by the cluster is the first user.
  const ADMIN_ID = 1;

  const rows = (page: Page) =>
    page
      .locator('[data-task-list] tbody tr')
      .evaluateAll((trs) => trs.map((tr) => Number((tr as HTMLElement).dataset.task)));

  test('the overdue tile opens my late tasks, marked late in words', { timeout: 60_000 }, async ({
    pageAs,
    portal,
  }) => {
    const page = await pageAs('ute', { path: '/dashboard' });
    await page.waitForSelector('[data-connection="live"]');
    expect(await page.textContent('[data-metric="my_overdue"]')).toBe('2');
    await page.click('[data-tile="my_overdue"]');
    await page.waitForURL(`${portal.base}/tasks?assignee=me&overdue=1`);
    expect((await rows(page)).sort()).toEqual([ids.late1, ids.late2].sort());
    // The filters say what the list is, so the person can widen it again.
    expect(await page.inputValue('#task-assignee')).toBe('me');
    expect(await page.isChecked('#task-overdue')).toBe(true);
    const due = page.locator(`tr[data-task="${ids.late2}"] .due`);
    expect(await due.textContent()).toBe(`${day(-2)} · 2 days late`);
    expect(await due.getAttribute('data-overdue')).toBe('true');
    expect(await page.textContent(`tr[data-task="${ids.late1}"] .due`)).toBe(`${day(-1)} · 1 day late`);
    // Widening the list: dates that are not late say how far off they are; done work is never late.
    await page.uncheck('#task-overdue');
    await page.waitForSelector(`tr[data-task="${ids.soon}"]`);
    expect(await page.textContent(`tr[data-task="${ids.soon}"] .due`)).toBe(`${day(1)} · due tomorrow`);
    expect(await page.textContent(`tr[data-task="${ids.doneLate}"] .due`)).toBe(day(-9));
    expect(new URL(page.url()).search).not.toContain('overdue=1');
  });

  test('every status tile and chart segment of a manager opens its list', { timeout: 60_000 }, async ({
    pageAs,
    portal,
  }) => {
    const page = await pageAs('mia', { path: '/dashboard' });
    await page.waitForSelector('[data-connection="live"]');
    expect(await page.getAttribute('[data-tile="team_tasks.blocked"]', 'href')).toBe(
      '/tasks?scope=team&status=blocked',
    );
    await page.click('[data-tile="team_tasks.blocked"]');
    await page.waitForURL(`${portal.base}/tasks?scope=team&status=blocked`);
    // The team's blocked task, not the one in a project someone else owns.
    expect(await rows(page)).toEqual([ids.blocked]);
    await page.goBack();
    await page.waitForSelector('[data-connection="live"]');
    // A click on the "Blocked" segment of the team chart: where Chart.js drew it.
    await page.locator('#chart-team').scrollIntoViewIfNeeded();
    type Charts = {
      getChart(c: HTMLCanvasElement): { getDatasetMeta(i: number): { data: Arc[] } } | undefined;
    };
    type Arc = { tooltipPosition(): { x: number; y: number } };
    await page.waitForFunction(() =>
      (globalThis as unknown as { Chart: Charts }).Chart.getChart(
        document.getElementById('chart-team') as HTMLCanvasElement,
      ),
    );
    const point = await page.evaluate(() => {
      const canvas = document.getElementById('chart-team') as HTMLCanvasElement;
      const chart = (globalThis as unknown as { Chart: Charts }).Chart.getChart(canvas)!;
      const arc = chart.getDatasetMeta(0).data[2]!.tooltipPosition();
      const box = canvas.getBoundingClientRect();
      return { x: box.left + arc.x, y: box.top + arc.y };
    });
    await page.mouse.click(point.x, point.y);
    await page.waitForURL(`${portal.base}/tasks?scope=team&status=blocked`);
    // The project table's names lead to the project's tasks.
    await page.goBack();
    await page.click(`tr[data-project="${ids.apollo}"] a`);
    await page.waitForURL(`${portal.base}/tasks?project=${ids.apollo}`);
    expect((await rows(page)).length).toBe(5);
  });

  test('marks late dates in dark mode and at phone width too', { timeout: 60_000 }, async ({
    pageAs,
    portal,
  }) => {
    const page = await pageAs('ute', {
      path: '/tasks?overdue=1',
      device: {
        viewport: { width: 390, height: 844 },
        colorScheme: 'dark',
      },
    });
    const colour = await page
      .locator(`tr[data-task="${ids.late2}"] .due`)
      .evaluate((el) => getComputedStyle(el).color);
    expect(colour).toBe('rgb(252, 165, 165)'); // the dark theme's "bad", readable on its dark card
    await page.goto(`${portal.base}/dashboard`);
    const tile = page.locator('[data-tile="my_overdue"]');
    const box = await tile.boundingBox();
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  test('shows a manager the open work per person on their projects, live, each number a link', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const page = await pageAs('mia', {
      path: '/workload',
      device: {
        viewport: { width: 390, height: 844 },
        colorScheme: 'dark',
      },
    });
    await page.waitForSelector('[data-connection="live"]');
    const cell = (who: number | string, what: string) =>
      page.textContent(`tr[data-person="${who}"] [data-count="${what}"]`);
    // The busiest first, names as shown with the username beside them; done work does not count.
    expect(await page.locator('[data-workload] tbody th').allTextContents()).toEqual([
      'Ute Ufer (ute)',
      'Anton Udo (udo)',
    ]);
    expect(await cell(ids.ute!, 'todo')).toBe('3');
    expect(await cell(ids.ute!, 'overdue')).toBe('2');
    expect(await cell(ids.udo!, 'blocked')).toBe('1');
    // Not the blocked task in a project someone else owns.
    expect(await page.locator('tr[data-person="none"]').count()).toBe(0);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // Live: work handed to Udo elsewhere shows up without a reload.
    await portal.api('POST', '/api/tasks', {
      project_id: ids.apollo,
      title: 'More for Udo',
      assignee_id: ids.udo,
    });
    await page.waitForFunction(
      (id) => document.querySelector(`tr[data-person="${id}"] [data-count="open"]`)?.textContent === '2',
      ids.udo,
      { timeout: 5000 },
    );
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await page.click(`tr[data-person="${ids.ute}"] [data-count="overdue"] a`);
    await page.waitForURL(`${portal.base}/tasks?assignee=${ids.ute}&scope=team&overdue=1`);
    expect((await rows(page)).sort()).toEqual([ids.late1, ids.late2].sort());
    // Admins see everyone, the unassigned work too; users have no such page.
    const whole = await pageAs('admin', { path: '/workload' });
    expect(await whole.textContent('tr[data-person="none"] [data-count="blocked"]')).toBe('1');
    const user = await pageAs('ute', { path: '/dashboard' });
    expect(await user.locator('nav a[href="/workload"]').count()).toBe(0);
    expect((await user.request.get(`${portal.base}/workload`)).status()).toBe(404);
  });

  test('raised no console errors and made no request outside the portal', ({ problems }) => {
    expect(problems).toEqual([]);
  });
});
