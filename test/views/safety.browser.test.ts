import type { Page } from 'playwright-core';
import { openDevice, signInWithForm } from '../support/browser.ts';
import { ADMIN } from '../support/cluster.ts';
import {
  type ApiList,
  type ApiProject,
  type ApiTask,
  type ApiUser,
  expect,
  test,
} from '../support/fixtures.ts';
import { validateHtml } from '../support/html-validate.ts';

test.override({
  cast: { mona: 'manager', max: 'manager', wes: 'user', ursa: 'user' },
  plan: {
    project: { name: 'Roadmap' },
    by: 'mona',
    tasks: (
      [
        ['Draft plan', 'todo'],
        ['Book rooms', 'in_progress'],
        ['Order laptops', 'blocked'],
        ['Kick-off', 'done'],
      ] as const
    ).map(([title, status]) => ({ title, status, assignee: 'wes' })),
  },
});

/**
 * Issue 14 items 7 and 8, as an admin or a manager meets them: destructive actions ask in a dialog
 * that says what will happen (counted by the server), reversible ones offer Undo, a manager's
 * projects are handed over in one step, a forbidden page is a page, and forms speak plainly.
 */
test.describe('safe admin actions and plain messages in Chromium', () => {
  let page: Page;
  /** Native dialogs (window.confirm): there must be none. */
  const nativeDialogs: string[] = [];
  const ids: Record<string, number> = {};

  // One admin page for the whole file: each test goes on where the one before left it.
  test.beforeAll(async ({ browser, people, portal, problems, world }) => {
    for (const username of ['mona', 'max', 'wes', 'ursa']) ids[username] = people.get(username).id;
    ids.roadmap = world.project.id;
    await portal.apiAs(await people.token('mona'), 'POST', '/api/projects', { name: 'Hiring' });
    page = await (await openDevice(browser, portal.base, problems)).newPage();
    page.on('dialog', (d) => {
      nativeDialogs.push(d.message());
      void d.dismiss();
    });
    await signInWithForm(page, portal.base, ADMIN.username, ADMIN.password, '/users');
  });
  test.afterAll(async () => {
    await page?.context().close();
  });

  const dialogText = () => page.textContent('#confirm-dialog-body');
  const openDialog = () => page.waitForSelector('#confirm-dialog[open] #confirm-dialog-body p');
  const closed = () =>
    page.waitForFunction(() => !(document.getElementById('confirm-dialog') as HTMLDialogElement).open);

  test('deleting a user asks first, with the real counts; Cancel changes nothing', {
    timeout: 60_000,
  }, async ({ portal }) => {
    await page.click('tr[data-user="wes"] >> text=Delete');
    await openDialog();
    expect(await page.textContent('#confirm-dialog-title')).toBe('Delete wes?');
    expect(await dialogText()).toContain('3 open tasks (and 1 finished one) will become unassigned.');
    expect(await page.textContent('#confirm-dialog [data-confirm-yes]')).toBe('Delete wes');
    // Focus starts on Cancel: Enter right away does not delete.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await page.click('#confirm-dialog >> text=Cancel');
    await closed();
    expect((await portal.api('GET', `/api/users/${ids.wes}`)).status).toBe(200);
    expect(await page.locator('tr[data-user="wes"]').count()).toBe(1);
    // Focus is back on the button that asked.
    expect(await page.evaluate(() => document.activeElement?.closest('tr')?.dataset.user)).toBe('wes');

    // Escape cancels too.
    await page.click('tr[data-user="wes"] >> text=Delete');
    await openDialog();
    await page.keyboard.press('Escape');
    await closed();
    expect((await portal.api('GET', `/api/users/${ids.wes}`)).status).toBe(200);

    // Confirmed: gone, and the notice says what happened.
    await page.click('tr[data-user="wes"] >> text=Delete');
    await openDialog();
    await page.click('#confirm-dialog [data-confirm-yes]');
    await page.waitForSelector('tr[data-user="wes"]', { state: 'detached' });
    expect(await page.textContent('[data-users-notice]')).toContain(
      'Deleted wes; 4 tasks are now unassigned.',
    );
    expect((await portal.api('GET', `/api/users/${ids.wes}`)).status).toBe(404);
    const tasks = await portal.api<ApiList<ApiTask>>('GET', `/api/tasks?project_id=${ids.roadmap}`);
    expect(tasks.body.items.map((t: { assignee_id: number | null }) => t.assignee_id)).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(nativeDialogs).toEqual([]);
  });

  test('Undo puts a role change and a deactivation back', { timeout: 60_000 }, async ({ portal }) => {
    await page.selectOption(`#role-${ids.ursa}`, 'manager');
    await page.getByRole('button', { name: 'Change role of ursa' }).click();
    await page.waitForSelector('[data-users-notice] [data-undo]');
    expect(await page.textContent('[data-users-notice] p')).toBe('ursa is now manager (was user).');
    expect((await portal.api<ApiUser>('GET', `/api/users/${ids.ursa}`)).body.role).toBe('manager');
    await page.getByRole('button', { name: /^Undo\W+make ursa user again$/ }).click();
    await page.waitForFunction(() =>
      document.querySelector('[data-users-notice]')?.textContent?.includes('ursa is now user (was manager).'),
    );
    expect(await page.inputValue(`#role-${ids.ursa}`)).toBe('user');
    expect(await validateHtml(await page.content(), 'dom')).toEqual([]);
    expect((await portal.api<ApiUser>('GET', `/api/users/${ids.ursa}`)).body.role).toBe('user');

    await page.locator('tr[data-user="ursa"]').getByRole('button', { name: 'Deactivate' }).click();
    await page.waitForFunction(() =>
      document.querySelector('[data-users-notice]')?.textContent?.includes('ursa is deactivated'),
    );
    expect((await portal.api<ApiUser>('GET', `/api/users/${ids.ursa}`)).body.active).toBe(false);
    await page.getByRole('button', { name: /^Undo\W+reactivate ursa$/ }).click();
    await page.waitForFunction(() =>
      document.querySelector('[data-users-notice]')?.textContent?.includes('ursa is active again.'),
    );
    expect((await portal.api<ApiUser>('GET', `/api/users/${ids.ursa}`)).body.active).toBe(true);
    expect(await page.textContent('tr[data-user="ursa"]')).not.toContain('deactivated');
  });

  test('a manager who owns projects is handed over in one step, then can be deleted', {
    timeout: 60_000,
  }, async ({ portal }) => {
    // Before: Delete says why it cannot, and offers no delete button.
    await page.click('tr[data-user="mona"] >> text=Delete');
    await openDialog();
    expect(await dialogText()).toMatch(/mona owns 2 projects\. Hand them over/);
    expect(await page.isVisible('#confirm-dialog [data-confirm-yes]')).toBe(false);
    // Valid HTML: the page as served (with the hand-over form), and live with the dialog open.
    expect(await validateHtml(await (await page.request.get(`${portal.base}/users`)).text())).toEqual([]);
    expect(await validateHtml(await page.content(), 'dom')).toEqual([]);
    await page.click('#confirm-dialog >> text=Close');
    await closed();

    const row = page.locator('tr[data-user="mona"]');
    await row.getByLabel("Hand over mona's 2 projects to").selectOption(String(ids.max));
    await row.getByRole('button', { name: 'Hand over 2 projects of mona' }).click();
    await page.waitForFunction(() =>
      document
        .querySelector('[data-users-notice]')
        ?.textContent?.includes('2 projects of mona now belong to max.'),
    );
    const projects = await portal.api<ApiList<ApiProject>>('GET', '/api/projects?limit=200');
    expect(
      projects.body.items.map((p: { name: string; owner_id: number }) => [p.name, p.owner_id === ids.max]),
    ).toEqual(
      expect.arrayContaining([
        ['Roadmap', true],
        ['Hiring', true],
      ]),
    );
    expect(await page.locator('tr[data-user="mona"] [data-hand-over]').count()).toBe(0);
    expect(await page.locator('tr[data-user="max"] [data-hand-over]').count()).toBe(1);

    await page.click('tr[data-user="mona"] >> text=Delete');
    await openDialog();
    expect(await dialogText()).toContain('mona has no tasks assigned.');
    await page.click('#confirm-dialog [data-confirm-yes]');
    await page.waitForSelector('tr[data-user="mona"]', { state: 'detached' });
  });

  test('deleting a project says how many tasks go with it', { timeout: 60_000 }, async ({ portal }) => {
    await page.goto(`${portal.base}/projects`);
    await page.click(`tr[data-project="${ids.roadmap}"] >> text=Delete`);
    await openDialog();
    expect(await page.textContent('#confirm-dialog-title')).toBe('Delete the project “Roadmap”?');
    expect(await dialogText()).toContain('Its 4 tasks will be deleted with it: 3 open, 1 done.');
    await page.click('#confirm-dialog >> text=Cancel');
    await closed();
    expect((await portal.api('GET', `/api/projects/${ids.roadmap}`)).status).toBe(200);
    await page.click(`tr[data-project="${ids.roadmap}"] >> text=Delete`);
    await openDialog();
    await page.click('#confirm-dialog [data-confirm-yes]');
    await page.waitForSelector(`tr[data-project="${ids.roadmap}"]`, { state: 'detached' });
    expect(await page.textContent('#projects-notice')).toBe('Deleted the project “Roadmap” and its 4 tasks.');
    expect(nativeDialogs).toEqual([]);
  });

  for (const colorScheme of ['light', 'dark'] as const) {
    test(`a manager opening /users gets a readable 403 page with a way back (${colorScheme})`, {
      timeout: 60_000,
    }, async ({ pageAs, portal }) => {
      const other = await pageAs('max', { device: { colorScheme }, allow: 'all' });
      const context = other.context();
      const res = await other.goto(`${portal.base}/users`);
      expect(res?.status()).toBe(403);
      expect(res?.headers()['content-type']).toMatch(/text\/html/);
      expect(await other.textContent('h1')).toBe('You cannot open this page');
      expect(await validateHtml((await res?.text()) ?? '')).toEqual([]);
      expect(await other.textContent('[data-forbidden]')).toContain('User management is only for admins.');
      // Text and link stand out from the card in this colour scheme (WCAG AA: 4.5:1).
      const contrast = await other.evaluate(() => {
        const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number);
        const lum = (c: string) => {
          const [r, g, b] = rgb(c).map((v) => {
            const s = v / 255;
            return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
        };
        const ratio = (a: string, b: string) => {
          const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
          return (hi! + 0.05) / (lo! + 0.05);
        };
        const card = getComputedStyle(document.querySelector('[data-forbidden]')!).backgroundColor;
        const text = getComputedStyle(document.querySelector('[data-forbidden] p')!).color;
        const link = getComputedStyle(document.querySelector('[data-forbidden] a')!).color;
        return {
          text: ratio(text, card),
          link: ratio(link, card),
          dark: matchMedia('(prefers-color-scheme: dark)').matches,
        };
      });
      expect(contrast.dark).toBe(colorScheme === 'dark');
      expect(contrast.text).toBeGreaterThanOrEqual(4.5);
      expect(contrast.link).toBeGreaterThanOrEqual(4.5);
      await other.click('text=Back to the dashboard');
      await other.waitForURL(`${portal.base}/dashboard`);
      await context.close();
    });
  }

  test('says what is wrong next to the field, shows the rules first, and keeps what was typed', {
    timeout: 60_000,
  }, async ({ portal }) => {
    await page.goto(`${portal.base}/users`);
    // The password rules and the limits are there before anything is sent.
    expect(await page.textContent('#new-password-hint')).toContain('At least 12 characters');
    expect(await page.getAttribute('#new-password', 'aria-describedby')).toContain('new-password-hint');
    expect(await page.textContent('#new-display_name-limit')).toBe('Up to 200 characters.');
    await page.fill('#new-username', 'bad name');
    await page.fill('#new-display_name', 'Bea Example');
    expect(await page.textContent('#new-display_name-limit')).toBe('11 of 200 characters');
    await page.selectOption('#new-role', 'manager');
    await page.fill('#new-password', 'short');
    await page.click('text=Create user');
    await page.waitForSelector('#new-username-error');
    expect(await page.textContent('#new-username-error')).toBe(
      'Username can only use letters, digits, dots, hyphens and underscores (no spaces)',
    );
    expect(await page.textContent('#new-password-error')).toBe('Password must be at least 12 characters');
    // Each message sits in its own field's box, read with the field.
    expect(
      await page.evaluate(
        () => document.getElementById('new-username-error')?.closest('.field')?.querySelector('input')?.id,
      ),
    ).toBe('new-username');
    expect(await page.getAttribute('#new-username', 'aria-describedby')).toContain('new-username-error');
    // Kept: everything but the password.
    expect(await page.inputValue('#new-username')).toBe('bad name');
    expect(await page.inputValue('#new-display_name')).toBe('Bea Example');
    expect(await page.inputValue('#new-role')).toBe('manager');
    expect(await page.inputValue('#new-password')).toBe('');
    expect(await page.textContent('#new-display_name-limit')).toBe('11 of 200 characters');
    const body = (await page.textContent('main')) ?? '';
    expect(body).not.toMatch(/Too big|Too small|Invalid input|expected string/);
  });

  test('raised no console errors and no CSP violations', ({ problems }) => {
    expect(problems.filter((p) => !/status of 40[34]/.test(p))).toEqual([]);
  });
});
