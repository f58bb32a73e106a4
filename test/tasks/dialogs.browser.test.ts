import type { Page } from 'playwright-core';
import { signInWithForm } from '../support/browser.ts';
import {
  type ApiList,
  type ApiTask,
  expect,
  type PageAs,
  PASSWORD as PW,
  test,
} from '../support/fixtures.ts';
import { api } from '../support/live-client.ts';

test.override({
  cast: {
    mark: 'manager',
    ursa: { role: 'user', display_name: 'Ursa U.' },
    olaf: { role: 'user', display_name: 'Olaf O.' },
    ugo: 'user',
  },
  plan: {
    project: { name: 'Apollo' },
    by: 'mark',
    tasks: [{ title: 'Fuel', assignee: 'ursa', due_date: '2031-05-01' }],
  },
});

/**
 * The create and edit dialogs of the tasks page in a real browser: inline errors from the API's
 * rules, the assignee's status-only dialog, a change made in one person's browser reaching
 * another person's dashboard live, and the whole path by keyboard alone.
 */
test.describe('task dialogs in Chromium', () => {
  let base: string;
  let admin: string;
  const ids = { mark: 0, ursa: 0, olaf: 0, project: 0, fuel: 0 };
  test.beforeAll(({ portal, people, world }) => {
    base = portal.base;
    admin = portal.admin;
    for (const name of ['mark', 'ursa', 'olaf'] as const) ids[name] = people.get(name).id;
    ids.project = world.project.id;
    ids.fuel = world.task.id;
  });

  /** A device that reports console errors, page errors and any request leaving the portal. */
  async function open(pageAs: PageAs, username: string, path = '/tasks'): Promise<Page> {
    const page = await pageAs(username, { path, device: { acceptDialogs: true } });
    await page.waitForSelector('[data-connection="live"]');
    return page;
  }
  const focused = (page: Page) => page.evaluate(() => document.activeElement?.id ?? '');
  const dialogOpen = (page: Page) => page.evaluate(() => document.querySelector('dialog')?.open === true);
  const waitClosed = (page: Page) =>
    page.waitForFunction(() => !document.querySelector('dialog[open]'), undefined, {
      timeout: 5000,
    });
  const waitOpen = (page: Page) => page.waitForSelector('dialog#task-dialog[open] form');
  const task = async (id: number) => api<ApiTask>(base, admin, 'GET', `/api/tasks/${id}`);

  test('creates a task in a dialog, showing the 422s inline first, then edits and deletes it', {
    timeout: 90_000,
  }, async ({ pageAs, portal }) => {
    const page = await open(pageAs, 'mark');
    await page.click('#task-new');
    await waitOpen(page);
    expect(await page.textContent('#task-dialog h2')).toBe('New task');
    expect(await focused(page)).toBe('tf-title');

    // No title: refused inline, next to the field, and focus goes to it.
    await page.click('#task-dialog >> text=Create task');
    await page.waitForSelector('#tf-title-error');
    expect(await page.textContent('#tf-title-error')).toBe('Title must not be empty');
    expect(await page.getAttribute('#tf-title', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#tf-title', 'aria-describedby')).toBe('tf-title-error tf-title-limit');
    expect(await focused(page)).toBe('tf-title');
    expect(await dialogOpen(page)).toBe(true);

    // Olaf is deactivated while the dialog is open: the domain refuses him, inline on the assignee.
    await page.fill('#tf-title', 'Launch checklist');
    await page.selectOption('#tf-assignee_id', String(ids.olaf));
    await portal.api('PATCH', `/api/users/${ids.olaf}`, { active: false });
    await page.click('#task-dialog >> text=Create task');
    await page.waitForSelector('#tf-assignee_id-error');
    expect(await page.textContent('#tf-assignee_id-error')).toBe('Assignee must be an active user');
    expect(await page.locator('#tf-title-error').count()).toBe(0);
    expect(await page.inputValue('#tf-title')).toBe('Launch checklist');

    await page.selectOption('#tf-assignee_id', String(ids.ursa));
    await page.selectOption('#tf-priority', 'high');
    await page.fill('#tf-due_date', '2030-01-15');
    await page.click('#task-dialog >> text=Create task');
    await waitClosed(page);
    expect(await focused(page)).toBe('task-new');
    expect(await page.textContent('#task-notice')).toBe('Created the task “Launch checklist”.');
    const row = page.locator('tr[data-task]', { hasText: 'Launch checklist' });
    await row.waitFor();
    const id = Number(await row.getAttribute('data-task'));
    expect((await task(id)).body).toMatchObject({
      title: 'Launch checklist',
      project_id: ids.project,
      assignee_id: ids.ursa,
      priority: 'high',
      due_date: '2030-01-15',
      status: 'todo',
    });

    // Edit: the dialog holds the task as it is; a change shows in the list without a reload.
    await page.click(`#task-edit-${id}`);
    await waitOpen(page);
    expect(await page.textContent('#task-dialog h2')).toBe('Edit task');
    expect(await page.inputValue('#tf-title')).toBe('Launch checklist');
    expect(await page.inputValue('#tf-assignee_id')).toBe(String(ids.ursa));
    expect(await page.inputValue('#tf-due_date')).toBe('2030-01-15');
    await page.fill('#tf-title', '');
    await page.click('#task-dialog >> text=Save');
    await page.waitForSelector('#tf-title-error');
    await page.fill('#tf-title', 'Launch checklist v2');
    await page.selectOption('#tf-status', 'in_progress');
    await page.fill('#tf-due_date', '');
    await page.click('#task-dialog >> text=Save');
    await waitClosed(page);
    await page.waitForSelector(`[data-column="in_progress"] li[data-card="${id}"]`);
    expect(await page.textContent(`tr[data-task="${id}"] td`)).toBe('Launch checklist v2');
    await page.waitForFunction((tid) => document.activeElement?.id === `task-edit-${tid}`, id);
    expect((await task(id)).body).toMatchObject({
      title: 'Launch checklist v2',
      status: 'in_progress',
      due_date: null,
    });

    // Escape closes without saving and gives focus back.
    await page.click(`#task-edit-${id}`);
    await waitOpen(page);
    await page.fill('#tf-title', 'Not this');
    await page.keyboard.press('Escape');
    await waitClosed(page);
    expect(await focused(page)).toBe(`task-edit-${id}`);
    expect((await task(id)).body.title).toBe('Launch checklist v2');

    // Delete from the edit dialog.
    await page.click(`#task-edit-${id}`);
    await waitOpen(page);
    await page.click('#task-dialog >> text=Delete task');
    await page.click('#confirm-dialog[open] [data-confirm-yes]');
    await waitClosed(page);
    await page.waitForSelector(`tr[data-task="${id}"]`, { state: 'detached' });
    expect((await task(id)).status).toBe(404);
    expect(await focused(page)).toBe('task-new');
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await page.context().close();
  });

  test('shows the assignee only the status, and the server refuses them anything more', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const page = await open(pageAs, 'ursa');
    expect(await page.locator('#task-new').count()).toBe(0);
    await page.click(`#task-edit-${ids.fuel}`);
    await waitOpen(page);
    const controls = await page
      .locator('#task-dialog input:not([type=hidden]), #task-dialog select, #task-dialog textarea')
      .evaluateAll((els) => els.map((e) => e.id));
    expect(controls).toEqual(['tf-status']);
    expect(await page.locator('#task-dialog', { hasText: 'Delete task' }).count()).toBe(0);
    expect(await focused(page)).toBe('tf-status');
    await page.selectOption('#tf-status', 'blocked');
    await page.click('#task-dialog >> text=Save');
    await waitClosed(page);
    await page.waitForSelector(`[data-column="blocked"] li[data-card="${ids.fuel}"]`);
    expect((await task(ids.fuel)).body.status).toBe('blocked');

    // A forged edit with more than the status, from her own signed-in browser: refused by the domain.
    const post = (path: string, form: Record<string, string>) =>
      page.request.post(`${portal.base}${path}`, {
        form,
        headers: { origin: portal.base, 'hx-request': 'true' },
      });
    const forged = await post(`/tasks/${ids.fuel}/edit`, { status: 'done', title: 'Mine now' });
    expect(await forged.text()).toContain('The assignee may only change the status of a task');
    expect((await post('/tasks/new', { project_id: String(ids.project), title: 'Sneaky' })).status()).toBe(
      404,
    );
    const deleted = await post(`/tasks/${ids.fuel}/delete`, {});
    expect(await deleted.text()).toContain('Only the project owner or an admin can delete tasks');
    expect((await task(ids.fuel)).body).toMatchObject({ title: 'Fuel', status: 'blocked' });
    expect((await post(`/tasks/${ids.fuel}/edit`, { status: 'sideways' })).status()).toBe(200);
    expect((await task(ids.fuel)).body.status).toBe('blocked');
    await page.context().close();
  });

  test("updates another person's open dashboard within a second of a manager's edit in the dialog", {
    timeout: 60_000,
  }, async ({ pageAs }) => {
    const dashboard = await open(pageAs, 'ursa', '/dashboard');
    const done = await dashboard.textContent('[data-metric="my_tasks.done"]');
    expect(done).toBe('0');
    const manager = await open(pageAs, 'mark');
    await manager.click(`#task-edit-${ids.fuel}`);
    await waitOpen(manager);
    await manager.selectOption('#tf-status', 'done');
    await manager.click('#task-dialog >> text=Save');
    await waitClosed(manager); // saved
    await dashboard.waitForFunction(
      () => document.querySelector('[data-metric="my_tasks.done"]')?.textContent === '1',
      undefined,
      { timeout: 1000 },
    );
    expect(await dashboard.textContent('[data-metric="my_tasks.blocked"]')).toBe('0');
    expect(await dashboard.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await dashboard.context().close();
    await manager.context().close();
  });

  test('can be used with the keyboard alone, with the focus always visible', { timeout: 90_000 }, async ({
    pageAs,
    portal,
  }) => {
    const page = await pageAs(null, { device: { acceptDialogs: true } });
    const invisible: string[] = [];
    /** Presses Tab until `done` holds for the focused element, checking each one shows its focus. */
    const tabTo = async (done: (el: { id: string; text: string; href: string }) => boolean, limit = 30) => {
      for (let i = 0; i < limit; i++) {
        await page.keyboard.press('Tab');
        const el = await page.evaluate(() => {
          const e = document.activeElement as HTMLElement | null;
          if (!e || e === document.body) return undefined;
          const style = getComputedStyle(e);
          return {
            id: e.id,
            text: (e.textContent ?? '').trim(),
            href: e.getAttribute('href') ?? '',
            tag: e.tagName,
            // What the person sees: an outline or a ring. (A date field focuses its inner parts, so
            // it is styled on :focus; everything else on :focus-visible.)
            visible: style.outlineStyle !== 'none' || style.boxShadow !== 'none',
          };
        });
        if (!el) continue;
        if (!el.visible) invisible.push(`${el.tag}#${el.id} ${el.text}`);
        if (done(el)) return;
      }
      throw new Error('never reached by Tab');
    };

    await page.goto(`${portal.base}/login`);
    // The page puts the focus in the first field (autofocus: applied at the next rendering
    // opportunity, which a loaded machine may give after the load event).
    await page.waitForFunction(() => document.activeElement?.id === 'username', undefined, { timeout: 5000 });
    await page.keyboard.type('mark');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PW);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${portal.base}/dashboard`);

    await tabTo((el) => el.href === '/tasks');
    await page.keyboard.press('Enter');
    await page.waitForURL(`${portal.base}/tasks`);
    await page.waitForSelector('[data-connection="live"]');

    await tabTo((el) => el.id === 'task-new');
    await page.keyboard.press('Enter');
    await waitOpen(page);
    expect(await focused(page)).toBe('tf-title');
    await page.keyboard.type('Typed by keyboard');
    await tabTo((el) => el.id === 'tf-assignee_id');
    await page.keyboard.press('ArrowDown'); // the first person after "Unassigned"
    await tabTo((el) => el.id === 'tf-priority');
    await page.keyboard.press('ArrowDown'); // medium → high
    await tabTo((el) => el.text === 'Create task');
    await page.keyboard.press('Enter');
    await waitClosed(page);
    expect(await focused(page)).toBe('task-new');
    const created = (await portal.api<ApiList<ApiTask>>('GET', '/api/tasks?q=Typed%20by%20keyboard')).body
      .items;
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ priority: 'high', project_id: ids.project });
    expect(created[0]!.assignee_id).not.toBeNull();

    // Escape closes a dialog; the focus returns to the button that opened it.
    await page.keyboard.press('Enter');
    await waitOpen(page);
    await page.keyboard.press('Escape');
    await waitClosed(page);
    expect(await focused(page)).toBe('task-new');
    await tabTo((el) => el.id.startsWith('task-edit-'));
    await page.keyboard.press('Enter');
    await waitOpen(page);
    await page.keyboard.press('Escape');
    await waitClosed(page);
    expect(await focused(page)).toMatch(/^task-edit-/);

    expect(invisible).toEqual([]);
    await page.context().close();
  });

  test('falls back to pages of their own without JavaScript', { timeout: 60_000 }, async ({
    pageAs,
    portal,
  }) => {
    const page = await pageAs(null, { device: { javaScriptEnabled: false } });
    const context = page.context();
    await signInWithForm(page, portal.base, 'mark', PW, '/tasks');
    await page.click('a[href="/tasks/new"]');
    await page.waitForURL(`${portal.base}/tasks/new`);
    await page.click('text=Create task');
    expect(await page.textContent('#tf-title-error')).toBe('Title must not be empty');
    await page.fill('#tf-title', 'Without script');
    await page.click('text=Create task');
    await page.waitForURL(`${portal.base}/tasks`);
    expect(await page.locator('tr[data-task]', { hasText: 'Without script' }).count()).toBe(1);
    await context.close();
  });

  test('logged no console errors and made no request outside the portal', ({ problems }) => {
    expect(problems).toEqual([]);
  });
});
