import type { Page } from 'playwright-core';
import type { DeviceOptions } from '../support/browser.ts';
import { type ApiList, type ApiProject, expect, type PageAs, test } from '../support/fixtures.ts';

test.override({
  cast: { mia: { role: 'manager', display_name: 'Mia Manager' }, max: 'manager', uma: 'user' },
  plan: {
    project: { name: 'Shared work', description: 'Everyone helps' },
    by: 'mia',
    tasks: [{ title: 'Help out', assignee: 'uma' }],
  },
});

/** The projects page, for each role, through the UI in a real browser. */
test.describe('projects page in Chromium', () => {
  let mia: string;
  const ids = { mia: 0, shared: 0, other: 0 };
  test.beforeAll(async ({ people, portal, world }) => {
    ids.mia = people.get('mia').id;
    mia = await people.token('mia');
    ids.shared = world.project.id;
    const max = await people.token('max');
    ids.other = (await portal.apiAs<ApiProject>(max, 'POST', '/api/projects', { name: 'Max only' })).body.id;
  });

  /** Signs in and reaches the projects page through the navigation. */
  async function projectsAs(pageAs: PageAs, username: string, options: DeviceOptions = {}): Promise<Page> {
    // Deleting asks first; the person says yes.
    const page = await pageAs(username, { device: { ...options, acceptDialogs: true } });
    await page.click('nav[aria-label=Main] >> text=Projects');
    await page.waitForURL(`${new URL(page.url()).origin}/projects`);
    return page;
  }
  const row = (page: Page, name: string) => page.locator('tr[data-project]', { hasText: name });
  const names = (page: Page) => page.locator('tr[data-project] [data-name]').allTextContents();

  test('lets a manager create, edit and delete a project, with inline validation errors first', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const page = await projectsAs(pageAs, 'mia');
    expect(await names(page)).toEqual(['Shared work']);

    // Nothing typed: refused inline, tied to the field.
    await page.click('text=Create project');
    await page.waitForSelector('#new-name-error');
    expect(await page.textContent('#new-name-error')).toBe('Name must not be empty');
    expect(await page.getAttribute('#new-name', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#new-name', 'aria-describedby')).toBe('new-name-error new-name-limit');
    // What was typed elsewhere is kept.
    await page.fill('#new-description', 'Plans for next year');
    await page.fill('#new-name', '   ');
    await page.click('text=Create project');
    await page.waitForFunction(
      () => document.querySelector('#new-description')?.textContent === 'Plans for next year',
    );
    expect(await page.textContent('#new-name-error')).toBe('Name must not be empty');

    await page.fill('#new-name', 'Roadmap');
    await page.click('text=Create project');
    await row(page, 'Roadmap').waitFor();
    expect(await page.locator('#new-name-error').count()).toBe(0);
    expect(await page.textContent('#projects [role=status]')).toContain('Roadmap');
    expect(await row(page, 'Roadmap').locator('[data-description]').textContent()).toBe(
      'Plans for next year',
    );
    const created = (await portal.apiAs<ApiList<ApiProject>>(mia, 'GET', '/api/projects?q=Roadmap')).body
      .items;
    expect(created).toMatchObject([
      { name: 'Roadmap', owner_id: ids.mia, description: 'Plans for next year' },
    ]);
    const id = created[0]!.id;

    // Edit: an empty name is refused next to the field, the form stays open.
    await row(page, 'Roadmap').locator('summary').click();
    await page.fill(`#edit-${id}-name`, '');
    await page.click(`tr[data-project="${id}"] >> text=Save`);
    await page.waitForSelector(`#edit-${id}-name-error`);
    expect(await page.textContent(`#edit-${id}-name-error`)).toBe('Name must not be empty');
    expect(await page.getAttribute(`#edit-${id}-name`, 'aria-describedby')).toBe(
      `edit-${id}-name-error edit-${id}-name-limit`,
    );
    expect(await page.locator(`tr[data-project="${id}"] details[open]`).count()).toBe(1);
    await page.fill(`#edit-${id}-name`, 'Roadmap 2027');
    await page.fill(`#edit-${id}-description`, 'Revised');
    await page.click(`tr[data-project="${id}"] >> text=Save`);
    await page.waitForFunction(
      (pid) =>
        document.querySelector(`tr[data-project="${pid}"] [data-name]`)?.textContent === 'Roadmap 2027',
      id,
    );
    expect((await portal.apiAs(mia, 'GET', `/api/projects/${id}`)).body).toMatchObject({
      name: 'Roadmap 2027',
      description: 'Revised',
    });

    await page.click(`tr[data-project="${id}"] >> text=Delete`);
    await page.click('#confirm-dialog[open] [data-confirm-yes]');
    await page.waitForSelector(`tr[data-project="${id}"]`, { state: 'detached' });
    expect(await names(page)).toEqual(['Shared work']);
    expect((await portal.apiAs(mia, 'GET', `/api/projects/${id}`)).status).toBe(404);
    // All of it in place, without a reload.
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await page.context().close();
  });

  test('lets an admin see every project with its owner and create one for a manager', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const page = await projectsAs(pageAs, 'admin');
    expect(await names(page)).toEqual(['Max only', 'Shared work']);
    expect(await row(page, 'Shared work').textContent()).toContain('Mia Manager');
    await page.fill('#new-name', 'Handed over');
    await page.selectOption('#new-owner_id', String(ids.mia));
    await page.click('text=Create project');
    await row(page, 'Handed over').waitFor();
    expect(await row(page, 'Handed over').textContent()).toContain('Mia Manager');
    const mine = (await portal.apiAs<ApiList<ApiProject>>(mia, 'GET', '/api/projects')).body.items.map(
      (p: { name: string }) => p.name,
    );
    expect(mine).toEqual(['Handed over', 'Shared work']);
    await page.context().close();
  });

  test('shows a user only the projects holding their tasks, with no controls; forged posts are 404', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const page = await projectsAs(pageAs, 'uma');
    expect(await names(page)).toEqual(['Shared work']);
    expect(await page.locator('#projects form, #projects button, #projects summary').count()).toBe(0);
    expect(await page.getByText('New project').count()).toBe(0);
    // The same requests the manager's forms make, with this user's cookie, from the portal's origin.
    const post = async (on: Page, path: string, form: Record<string, string>) =>
      (
        await on.request.post(`${portal.base}${path}`, {
          form,
          headers: { origin: portal.base, 'hx-request': 'true' },
        })
      ).status();
    const statuses = [
      await post(page, '/projects/new', { name: 'Sneaky' }),
      await post(page, `/projects/${ids.shared}/edit`, { name: 'Renamed', description: '' }),
      await post(page, `/projects/${ids.shared}/delete`, {}),
    ];
    expect(statuses).toEqual([404, 404, 404]);
    const still = (await portal.api<ApiProject>('GET', `/api/projects/${ids.shared}`)).body;
    expect(still.name).toBe('Shared work');
    expect((await portal.api<ApiList<ApiProject>>('GET', '/api/projects?q=Sneaky')).body.total).toBe(0);
    // A manager cannot reach another manager's project either.
    const manager = await projectsAs(pageAs, 'mia');
    const status = await post(manager, `/projects/${ids.other}/delete`, {});
    expect(status).toBe(404);
    expect((await portal.api('GET', `/api/projects/${ids.other}`)).status).toBe(200);
    await page.context().close();
    await manager.context().close();
  });

  test('works as plain forms and full pages without JavaScript', { timeout: 60_000 }, async ({ pageAs }) => {
    const page = await projectsAs(pageAs, 'mia', { javaScriptEnabled: false });
    await page.click('text=Create project');
    await page.waitForSelector('#new-name-error');
    await page.fill('#new-name', 'No script');
    await page.click('text=Create project');
    await row(page, 'No script').waitFor();
    expect(await page.title()).toContain('Projects');
    // Delete asks on a page of its own, with what it removes, then deletes.
    await row(page, 'No script')
      .getByRole('button', { name: /Delete/ })
      .click();
    await page.waitForSelector('[data-confirm-page]');
    expect(await page.textContent('h1')).toBe('Delete the project “No script”?');
    expect(await page.textContent('[data-confirm-page]')).toContain('It has no tasks.');
    await page.click('text=Delete “No script”');
    await page.waitForSelector('#projects-notice');
    expect(await page.textContent('#projects-notice')).toBe('Deleted the project “No script”.');
    expect(await row(page, 'No script').count()).toBe(0);
    await page.context().close();
  });

  test('logged no console errors and made no request outside the portal', ({ problems }) => {
    expect(problems).toEqual([]);
  });
});
