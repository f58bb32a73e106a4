import type { Route } from 'playwright-core';
import { type ApiTask, expect, test } from '../support/fixtures.ts';
import { api } from '../support/live-client.ts';

test.override({
  cast: { tia: 'user', mia: 'manager' },
  plan: {
    project: { name: 'Kitchen' },
    by: 'mia',
    tasks: ['Dishes', 'Oven', 'Fridge'].map((title) => ({ title, assignee: 'tia' })),
  },
});

/**
 * The tasks page refreshes itself on every change anyone makes (portal:change); a refresh must not
 * undo what the person just did or is doing (public/js/live-refresh.js): an answer read before a
 * save is not shown over the save, a click is not swallowed by a refresh between press and
 * release, and a keyboard choice not yet saved is not reset. Each was seen as a lost save or a
 * lost click on a busy machine; here each race is made to happen on purpose.
 */
test.describe('live refreshes of the tasks page in Chromium', () => {
  let base: string;
  let admin: string;
  const ids = { tasks: [] as number[] };
  test.beforeAll(({ portal, world }) => {
    base = portal.base;
    admin = portal.admin;
    ids.tasks = world.tasks.map((t) => t.id);
  });
  const statusOf = async (id: number) =>
    (await api<ApiTask>(base, admin, 'GET', `/api/tasks/${id}`)).body.status;
  const card = (status: string, id: number) => `[data-column="${status}"] li[data-card="${id}"]`;

  test('a refresh read before a save is not shown over it, and the next save of that task is not refused', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const [dishes, , fridge] = ids.tasks as [number, number, number];
    const page = await pageAs('tia', { path: '/tasks' });
    await page.waitForSelector('[data-connection="live"]');
    await page.evaluate(() => {
      const w = window as unknown as { refreshesAnswered: number };
      w.refreshesAnswered = 0;
      document.addEventListener('htmx:afterRequest', (event) => {
        const detail = (event as CustomEvent).detail;
        if (String(detail.requestConfig?.verb).toLowerCase() === 'get') w.refreshesAnswered++;
      });
    });
    // The first live refresh is answered at once by the server but handed to the page only later.
    let holding = false;
    let stale!: { route: Route; response: Awaited<ReturnType<Route['fetch']>> };
    let caught!: () => void;
    const wasCaught = new Promise<void>((resolve) => {
      caught = resolve;
    });
    await page.route(
      (url) => url.pathname === '/tasks',
      async (route) => {
        const request = route.request();
        if (holding || request.method() !== 'GET' || !request.headers()['hx-request'])
          return route.continue();
        holding = true;
        stale = { route, response: await route.fetch() };
        caught();
      },
    );
    // Someone else changes another task: the page asks for a refresh, read now, delivered later.
    await portal.api('PATCH', `/api/tasks/${fridge}`, { status: 'in_progress' });
    await wasCaught;
    // Meanwhile the person saves a status: the list shows it.
    await page.selectOption(`#status-${dishes}`, 'in_progress');
    await page.waitForSelector(card('in_progress', dishes));
    expect(await statusOf(dishes)).toBe('in_progress');
    // The older answer arrives now: it is not shown over the save.
    await stale.route.fulfill({ response: stale.response });
    await page.waitForFunction(
      () => (window as unknown as { refreshesAnswered: number }).refreshesAnswered >= 1,
    );
    expect(await page.inputValue(`#status-${dishes}`)).toBe('in_progress');
    expect(await page.locator(card('in_progress', dishes)).count()).toBe(1);
    // And the next change of the same task goes through (the version shown is the saved one).
    await page.selectOption(`#status-${dishes}`, 'done');
    await page.waitForSelector(card('done', dishes));
    expect(await statusOf(dishes)).toBe('done');
    // The other person's change is shown too, by the refresh its own change asked for.
    await page.waitForSelector(card('in_progress', fridge));
    expect(await page.locator('[data-write-notice] [role=alert]').textContent()).toBe('');
    await page.context().close();
  });

  test('a click on a task link is not swallowed by a refresh between press and release', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const [, oven, fridge] = ids.tasks as [number, number, number];
    const page = await pageAs('tia', { path: '/tasks' });
    await page.waitForSelector('[data-connection="live"]');
    await page.evaluate(() => {
      const w = window as unknown as { changes: number; listSwaps: number };
      w.changes = 0;
      w.listSwaps = 0;
      document.body.addEventListener('portal:change', () => w.changes++);
      document.addEventListener('htmx:afterSwap', () => w.listSwaps++);
    });
    const link = page.locator(`[data-task-list] a[href="/tasks/${oven}"]`);
    const box = (await link.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    // A change arrives while the button is down: the page hears of it but does not redraw the list.
    await portal.api('PATCH', `/api/tasks/${fridge}`, { status: 'blocked' });
    await page.waitForFunction(() => (window as unknown as { changes: number }).changes >= 1);
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => (window as unknown as { listSwaps: number }).listSwaps)).toBe(0);
    await page.mouse.up();
    await page.waitForURL(`${base}/tasks/${oven}`);
    await page.context().close();
  });

  test('a press held longer than a click does not keep the list stale', { timeout: 60_000 }, async ({
    pageAs,
    portal,
  }) => {
    const [, , fridge] = ids.tasks as [number, number, number];
    const page = await pageAs('tia', { path: '/tasks' });
    await page.waitForSelector('[data-connection="live"]');
    const box = (await page.locator('#task-results p[role=status]').boundingBox())!;
    await page.mouse.move(box.x + 2, box.y + 2);
    await page.mouse.down();
    await portal.api('PATCH', `/api/tasks/${fridge}`, { status: 'todo' });
    // Still pressed: the refresh runs once the hold has lasted as long as a click may.
    await page.waitForSelector(card('todo', fridge), { timeout: 5000 });
    await page.mouse.up();
    await page.context().close();
  });

  test('a keyboard choice not yet saved is not reset by a refresh', { timeout: 60_000 }, async ({
    pageAs,
    portal,
  }) => {
    const [, oven, fridge] = ids.tasks as [number, number, number];
    const before = await statusOf(oven);
    const page = await pageAs('tia', { path: '/tasks' });
    await page.waitForSelector('[data-connection="live"]');
    await page.evaluate(() => {
      const w = window as unknown as { changes: number };
      w.changes = 0;
      document.body.addEventListener('portal:change', () => w.changes++);
    });
    await page.focus(`#status-${oven}`);
    await page.keyboard.press('End');
    expect(await page.inputValue(`#status-${oven}`)).toBe('done');
    await portal.api('PATCH', `/api/tasks/${fridge}`, { status: 'done' });
    await page.waitForFunction(() => (window as unknown as { changes: number }).changes >= 1);
    await page.waitForTimeout(300);
    // The choice is still there, still waiting, still focused.
    expect(await page.inputValue(`#status-${oven}`)).toBe('done');
    expect(await page.getAttribute(`#status-${oven}`, 'aria-describedby')).toBe('select-commit-hint');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe(`status-${oven}`);
    expect(await statusOf(oven)).toBe(before);
    // Enter saves it, and the list catches up with the other change.
    await page.keyboard.press('Enter');
    await page.waitForSelector(card('done', oven));
    expect(await statusOf(oven)).toBe('done');
    await page.waitForSelector(card('done', fridge));
    await page.context().close();
  });
  test('a status picked the moment the list is redrawn is saved', { timeout: 60_000 }, async ({
    pageAs,
    portal,
  }) => {
    const [dishes, , fridge] = ids.tasks as [number, number, number];
    const page = await pageAs('tia', { path: '/tasks' });
    await page.waitForSelector('[data-connection="live"]');
    // The pick lands on the redrawn list's select in the first task after the swap (a person's
    // pick can land there; htmx attaches the select's save when the swap settles).
    await page.evaluate((id) => {
      const pick = (event: Event) => {
        if ((event.target as Element).id !== 'task-results') return;
        document.removeEventListener('htmx:afterSwap', pick);
        setTimeout(() => {
          const select = document.getElementById(`status-${id}`) as HTMLSelectElement;
          select.value = 'blocked';
          select.dispatchEvent(new Event('input', { bubbles: true }));
          select.dispatchEvent(new Event('change', { bubbles: true }));
        }, 0);
      };
      document.addEventListener('htmx:afterSwap', pick);
    }, dishes);
    await portal.api('PATCH', `/api/tasks/${fridge}`, { status: 'in_progress' });
    await page.waitForSelector(card('blocked', dishes));
    expect(await statusOf(dishes)).toBe('blocked');
    await page.context().close();
  });
});
