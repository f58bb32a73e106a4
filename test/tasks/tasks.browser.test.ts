import type { Page } from 'playwright-core';
import { ADMIN } from '../support/cluster.ts';
import { expect, type PageAs, test } from '../support/fixtures.ts';

test.override({
  cast: { tia: 'user', tom: 'user' },
  plan: {
    project: { name: 'Board' },
    by: ADMIN.username,
    tasks: Array.from({ length: 25 }, (_, i) => ({
      title: i < 3 ? `Alpha ${i}` : `Task ${i}`,
      assignee: 'tia',
      status: i % 5 === 0 ? ('blocked' as const) : ('todo' as const),
    })),
  },
});

/** The tasks page: search, filter, sort, pages, board, status changes, live — in a real browser. */
test.describe('tasks page in Chromium', () => {
  let firstTask: number;
  test.beforeAll(({ world }) => {
    firstTask = world.tasks.at(-1)!.id; // the newest: first on the first page
  });

  async function open(pageAs: PageAs, username: string): Promise<Page> {
    const page = await pageAs(username, { path: '/tasks' });
    await page.waitForSelector('[data-connection="live"]');
    return page;
  }
  const summary = (page: Page) => page.textContent('#task-results > p[role=status]');

  test('pages, searches and filters without reloading', { timeout: 60_000 }, async ({ pageAs }) => {
    const page = await open(pageAs, 'tia');
    expect(await summary(page)).toBe('Showing 1–20 of 25');
    // Each row says which project the task is in and who has it, by name.
    const headers = await page.locator('[data-task-list] thead th').allTextContents();
    expect(headers.slice(0, 3)).toEqual(['Task', 'Project', 'Assignee']);
    const first = page.locator(`tr[data-task="${firstTask}"] td`);
    expect(await first.nth(1).textContent()).toBe('Board');
    expect(await first.nth(2).textContent()).toBe('tia');
    await page.click('text=Next');
    await page.waitForFunction(
      () => document.querySelector('#task-results > p')?.textContent === 'Showing 21–25 of 25',
    );
    await page.fill('#task-q', 'alpha');
    await page.waitForFunction(
      () => document.querySelector('#task-results > p')?.textContent === 'Showing 1–3 of 3',
    );
    await page.fill('#task-q', '');
    await page.selectOption('#task-status', 'blocked');
    await page.waitForFunction(
      () => document.querySelector('#task-results > p')?.textContent === 'Showing 1–5 of 5',
    );
    expect(await page.locator('[data-column="blocked"] li').count()).toBe(5);
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    expect(await (await open(pageAs, 'tom')).textContent('#task-results > p')).toBe('No tasks match.');
  });

  test('moves a task along from the list, and follows changes made elsewhere', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const page = await open(pageAs, 'tia');
    const other = await open(pageAs, 'tia');
    await page.selectOption(`#status-${firstTask}`, 'done');
    await page.waitForSelector(`[data-column="done"] li[data-card="${firstTask}"]`);
    // The other tab shows it too, without a reload, through the realtime socket.
    await other.waitForSelector(`[data-column="done"] li[data-card="${firstTask}"]`, { timeout: 3000 });
    await portal.sql.query(`update tasks set status = 'in_progress' where id = $1`, [firstTask]);
    await page.waitForSelector(`[data-column="in_progress"] li[data-card="${firstTask}"]`, { timeout: 3000 });
  });

  test('raised no console errors and made no request outside the portal', ({ problems }) => {
    expect(problems).toEqual([]);
  });
});
