import type { Page } from 'playwright-core';
import { signInWithForm } from '../support/browser.ts';
import { ADMIN } from '../support/cluster.ts';
import {
  type ApiProject,
  type ApiTask,
  expect,
  type PageAs,
  PASSWORD as PW,
  test,
} from '../support/fixtures.ts';
import { api } from '../support/live-client.ts';

const STATUSES = ['todo', 'in_progress', 'blocked', 'done'] as const;
/** How many tasks of each status are in scope: 130 in all, 70 of them "to do". */
const made: Record<(typeof STATUSES)[number], number> = {
  todo: 70,
  in_progress: 25,
  blocked: 10,
  done: 25,
};

test.override({
  cast: { bea: 'user', max: 'manager', kim: 'user' },
  plan: {
    project: { name: 'Big board' },
    by: ADMIN.username,
    tasks: STATUSES.flatMap((status, s) =>
      Array.from({ length: made[status] }, (_, i) => {
        const n = STATUSES.slice(0, s).reduce((sum, earlier) => sum + made[earlier], 0) + i;
        return { title: `${n % 10 === 0 ? 'Alpha' : 'Card'} ${n}`, assignee: 'bea', status };
      }),
    ),
  },
});

/** The task board: the whole filtered scope by status, in a real browser. */
test.describe('task board in Chromium', () => {
  let base: string;
  let admin: string;
  // Asking for the world is what makes the fixture create the cards, before any test.
  test.beforeAll(({ portal, world }) => {
    void world;
    base = portal.base;
    admin = portal.admin;
  });
  async function open(pageAs: PageAs, username: string, path = '/tasks'): Promise<Page> {
    const page = await pageAs(username, { path });
    await page.waitForSelector('[data-connection="live"]');
    return page;
  }
  const counts = (page: Page): Promise<Record<string, number>> =>
    page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll<HTMLElement>('[data-board] [data-column]')].map((c) => [
          c.dataset.column,
          Number(c.querySelector('[data-count]')?.textContent),
        ]),
      ),
    );
  const cards = (page: Page, status: string) =>
    page.locator(`[data-column="${status}"] li[data-card]`).count();

  test('counts every task in scope by status, not just the page of the list', { timeout: 60_000 }, async ({
    pageAs,
  }) => {
    const page = await open(pageAs, 'bea');
    expect(await page.textContent('#task-results > p[role=status]')).toBe('Showing 1–20 of 130');
    const shown = await counts(page);
    expect(shown).toEqual(made);
    expect(Object.values(shown).reduce((a, b) => a + b, 0)).toBe(130);
    // A long column shows its first 50 cards, and the rest on demand.
    expect(await cards(page, 'todo')).toBe(50);
    expect(await cards(page, 'done')).toBe(25);
    await page.click('[data-column="todo"] li[data-more] a');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-column="todo"] li[data-card]').length === 70,
    );
    expect(await page.locator('[data-column="todo"] li[data-more]').count()).toBe(0);
    // Searching narrows the board as it does the list: 13 "Alpha" tasks, 7 of them to do.
    await page.fill('#task-q', 'alpha');
    await page.waitForFunction(
      () => document.querySelector('#task-results > p')?.textContent === 'Showing 1–13 of 13',
    );
    expect(await counts(page)).toEqual({ todo: 7, in_progress: 3, blocked: 1, done: 2 });
    // And so does the status filter.
    await page.fill('#task-q', '');
    await page.selectOption('#task-status', 'in_progress');
    await page.waitForFunction(
      () => document.querySelector('#task-results > p')?.textContent === 'Showing 1–20 of 25',
    );
    expect(await counts(page)).toEqual({ todo: 0, in_progress: 25, blocked: 0, done: 0 });
    expect(await cards(page, 'in_progress')).toBe(25);
  });

  test('shows the rest of a column on a page of its own without JavaScript', { timeout: 30_000 }, async ({
    pageAs,
    portal,
  }) => {
    const page = await pageAs(null, { device: { javaScriptEnabled: false } });
    const context = page.context();
    await page.goto(`${portal.base}/login?next=%2Ftasks`);
    await page.fill('#username', 'bea');
    await page.fill('#password', PW);
    await page.click('button[type=submit]');
    await page.waitForURL(`${portal.base}/tasks`);
    await page.click('[data-column="todo"] li[data-more] a');
    await page.waitForURL(/\/tasks\/board\/todo\?/);
    expect(await page.textContent('[data-column="todo"] > p')).toBe('Showing 51–70 of 70');
    expect(await cards(page, 'todo')).toBe(20);
    await context.close();
  });

  test.describe('moving cards', () => {
    const task: Record<string, number> = {};
    /** The portal's idea of a task's status, through the API. */
    const statusOf = async (id: number) =>
      (await api<ApiTask>(base, admin, 'GET', `/api/tasks/${id}`)).body.status;
    const columnOfCard = (page: Page, id: number) =>
      page.getAttribute(`[data-board] li[data-card="${id}"]`, 'data-status');
    test.beforeAll(async ({ portal, people }) => {
      const max = await people.token('max');
      const project = await portal.apiAs<ApiProject>(max, 'POST', '/api/projects', { name: 'Movers' });
      for (const name of ['drag', 'keys', 'live', 'cut', 'gone', 'count', 'quick']) {
        const t = await portal.apiAs<ApiTask>(max, 'POST', '/api/tasks', {
          project_id: project.body.id,
          title: `Move by ${name}`,
          assignee_id: people.get('kim').id,
        });
        task[name] = t.body.id;
      }
    });

    test('moves a card by drag and drop, and the move is saved', { timeout: 60_000 }, async ({ pageAs }) => {
      const page = await open(pageAs, 'kim');
      expect(await columnOfCard(page, task.drag!)).toBe('todo');
      await page.dragAndDrop(`li[data-card="${task.drag}"]`, '[data-column="blocked"] h3');
      await page.waitForSelector(`[data-column="blocked"] li[data-card="${task.drag}"]`);
      await expect.poll(() => statusOf(task.drag!)).toBe('blocked');
      // The notice is written on the next animation frame after the save's answer: waited for.
      await page.waitForFunction(
        () => document.getElementById('board-notice')?.textContent === 'Moved “Move by drag” to Blocked.',
      );
      await page.reload();
      await page.waitForSelector(`[data-column="blocked"] li[data-card="${task.drag}"]`);
      expect(await page.textContent('[data-column="blocked"] [data-count]')).toBe('1');
    });

    test('moves a card with the keyboard, announces it and keeps the focus on it', {
      timeout: 60_000,
    }, async ({ pageAs }) => {
      const page = await open(pageAs, 'kim');
      await page.focus(`li[data-card="${task.keys}"] summary`);
      await page.keyboard.press('Alt+ArrowRight');
      await page.waitForSelector(`[data-column="in_progress"] li[data-card="${task.keys}"]`);
      await page.waitForFunction(
        () => document.getElementById('board-notice')?.textContent === 'Moved “Move by keys” to In progress.',
      );
      expect(await page.getAttribute('#board-notice', 'aria-live')).toBe('polite');
      await page.keyboard.press('Alt+ArrowRight');
      await page.waitForSelector(`[data-column="blocked"] li[data-card="${task.keys}"]`);
      await expect.poll(() => statusOf(task.keys!)).toBe('blocked');
      // The focus is still on the card once the live refresh has re-rendered the board.
      await page.waitForFunction(
        (id) =>
          document
            .querySelector('[data-board] [data-column="blocked"] li[data-card]')
            ?.getAttribute('data-card') === String(id),
        task.keys,
      );
      expect(
        await page.evaluate(() => document.activeElement?.closest('[data-card]')?.getAttribute('data-card')),
      ).toBe(String(task.keys));
      // And from the Move menu: a form, submitted with the button of the column.
      await page.click(`li[data-card="${task.keys}"] summary`);
      await page.click(`li[data-card="${task.keys}"] button[data-move-to="done"]`);
      await page.waitForSelector(`[data-column="done"] li[data-card="${task.keys}"]`);
      await expect.poll(() => statusOf(task.keys!)).toBe('done');
    });

    test("shows a move on another person's board at once", { timeout: 60_000 }, async ({ pageAs }) => {
      const mover = await open(pageAs, 'kim');
      const watcher = await open(pageAs, 'max');
      await watcher.waitForSelector(`[data-column="todo"] li[data-card="${task.live}"]`);
      await mover.focus(`li[data-card="${task.live}"] summary`);
      await mover.keyboard.press('Alt+ArrowRight');
      await watcher.waitForSelector(`[data-column="in_progress"] li[data-card="${task.live}"]`, {
        timeout: 3000,
      });
    });

    test('puts a card back and says why when the move cannot be saved', { timeout: 60_000 }, async ({
      pageAs,
    }) => {
      // Errors in the console are expected here (a failed request): not counted with the others.
      const page = await pageAs('kim', { path: '/tasks', allow: 'all' });
      const context = page.context();
      await page.waitForSelector('[data-connection="live"]');
      const before = await page.textContent('[data-column="in_progress"] [data-count]');
      // The network is cut as the move is saved.
      await page.route('**/api/tasks/*', (route) => route.abort('internetdisconnected'));
      await page.focus(`li[data-card="${task.cut}"] summary`);
      await page.keyboard.press('Alt+ArrowRight');
      await page.waitForFunction(() =>
        document.getElementById('board-notice')?.textContent?.startsWith('Could not'),
      );
      expect(await page.getAttribute('#board-notice', 'class')).toContain('refused');
      expect(await page.textContent('#board-notice')).toBe(
        'Could not move “Move by cut”: the portal could not be reached. It is back in To do.',
      );
      expect(await columnOfCard(page, task.cut!)).toBe('todo');
      expect(await page.textContent('[data-column="in_progress"] [data-count]')).toBe(before);
      expect(await statusOf(task.cut!)).toBe('todo');
      await page.unroute('**/api/tasks/*');
      await context.close();
    });

    test('counts a move in both columns and moves the card’s menu along at once, before any refresh', {
      timeout: 60_000,
    }, async ({ pageAs, portal }) => {
      const page = await pageAs(null, { allow: 'all' });
      const context = page.context();
      // No live refresh (the socket goes nowhere): what changes is this page's own doing.
      await page.routeWebSocket(/\/ws/, () => {});
      await signInWithForm(page, portal.base, 'kim', PW, '/tasks');
      const card = `li[data-card="${task.count}"]`;
      await page.waitForSelector(card);
      const before = await counts(page);
      const disabled = () =>
        page.$$eval(`${card} button[data-move-to]`, (buttons) =>
          buttons.filter((b) => (b as HTMLButtonElement).disabled).map((b) => (b as HTMLButtonElement).value),
        );
      expect(await disabled()).toEqual(['todo']);
      await page.focus(`${card} summary`);
      await page.keyboard.press('Alt+ArrowRight');
      await page.waitForFunction(
        () =>
          document.getElementById('board-notice')?.textContent === 'Moved “Move by count” to In progress.',
      );
      expect(await counts(page)).toEqual({
        ...before,
        todo: before.todo! - 1,
        in_progress: before.in_progress! + 1,
      });
      expect(await disabled()).toEqual(['in_progress']);
      expect(await statusOf(task.count!)).toBe('in_progress');
      // Along to the last column, each move saved before the next (it sends the version the one
      // before got back); there, one more is said, and nothing moves.
      await page.keyboard.press('Alt+ArrowRight');
      await page.waitForFunction(
        () => document.getElementById('board-notice')?.textContent === 'Moved “Move by count” to Blocked.',
      );
      await page.keyboard.press('Alt+ArrowRight');
      await page.waitForFunction(
        () => document.getElementById('board-notice')?.textContent === 'Moved “Move by count” to Done.',
      );
      await page.keyboard.press('Alt+ArrowRight');
      await page.waitForFunction(
        () =>
          document.getElementById('board-notice')?.textContent ===
          '“Move by count” is already in the last column.',
      );
      expect(await columnOfCard(page, task.count!)).toBe('done');
      await context.close();
    });

    test('saves two moves made faster than the first is saved, in order, without a false conflict', {
      timeout: 60_000,
    }, async ({ pageAs }) => {
      const page = await pageAs('kim', { path: '/tasks', allow: 'all' });
      const context = page.context();
      await page.waitForSelector('[data-connection="live"]');
      // Every save takes a while to reach the portal, so the second key press comes first.
      await page.route('**/api/tasks/*', async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        await route.continue();
      });
      await page.focus(`li[data-card="${task.quick}"] summary`);
      await page.keyboard.press('Alt+ArrowRight');
      await page.keyboard.press('Alt+ArrowRight');
      await page.waitForSelector(`[data-column="blocked"] li[data-card="${task.quick}"]`);
      await page.waitForFunction(
        () => document.getElementById('board-notice')?.textContent === 'Moved “Move by quick” to Blocked.',
      );
      expect(await statusOf(task.quick!)).toBe('blocked');
      expect(await page.getAttribute('#board-notice', 'class')).not.toContain('refused');
      await page.unroute('**/api/tasks/*');
      await context.close();
    });

    test('puts a card back when the server refuses the move (the task is no longer yours)', {
      timeout: 60_000,
    }, async ({ pageAs, people, portal }) => {
      const page = await pageAs(null, { allow: 'all' });
      const context = page.context();
      // This board does not follow live changes (its socket goes nowhere), so it still shows the task.
      await page.routeWebSocket(/\/ws/, () => {});
      await signInWithForm(page, portal.base, 'kim', PW, '/tasks');
      await page.waitForSelector(`li[data-card="${task.gone}"]`);
      const max = await people.token('max');
      expect(
        (await portal.apiAs(max, 'PATCH', `/api/tasks/${task.gone}`, { assignee_id: null })).status,
      ).toBe(200);
      await page.dragAndDrop(`li[data-card="${task.gone}"]`, '[data-column="done"] h3');
      await page.waitForFunction(() =>
        document.getElementById('board-notice')?.textContent?.startsWith('Could not'),
      );
      expect(await page.getAttribute('#board-notice', 'class')).toContain('refused');
      expect(await page.textContent('#board-notice')).toBe(
        'Could not move “Move by gone”: Task not found. It is back in To do.',
      );
      expect(await columnOfCard(page, task.gone!)).toBe('todo');
      expect(await statusOf(task.gone!)).toBe('todo');
      await context.close();
    });
  });

  test('raised no console errors and made no request outside the portal', ({ problems }) => {
    expect(problems).toEqual([]);
  });
});
