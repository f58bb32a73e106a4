import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DeviceOptions, launchChromium, openDevice, signInWithForm } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';

/** The projects page, for each role, through the UI in a real browser. */
describe('projects page in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  let admin: string;
  let mia: string;
  const ids = { mia: 0, shared: 0, other: 0 };
  const problems: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const manager = await api(inst.base, admin, 'POST', '/api/users', {
      username: 'mia',
      display_name: 'Mia Manager',
      password: PW,
      role: 'manager',
    });
    ids.mia = manager.body.id;
    await api(inst.base, admin, 'POST', '/api/users', { username: 'max', password: PW, role: 'manager' });
    const user = await api(inst.base, admin, 'POST', '/api/users', {
      username: 'uma',
      password: PW,
      role: 'user',
    });
    mia = await signIn(inst.base, 'mia', PW);
    const max = await signIn(inst.base, 'max', PW);
    const shared = await api(inst.base, mia, 'POST', '/api/projects', {
      name: 'Shared work',
      description: 'Everyone helps',
    });
    ids.shared = shared.body.id;
    ids.other = (await api(inst.base, max, 'POST', '/api/projects', { name: 'Max only' })).body.id;
    await api(inst.base, mia, 'POST', '/api/tasks', {
      project_id: ids.shared,
      title: 'Help out',
      assignee_id: user.body.id,
    });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  /** Signs in and reaches the projects page through the navigation. */
  async function projectsAs(username: string, password = PW, options: DeviceOptions = {}): Promise<Page> {
    // Deleting asks first; the person says yes.
    const device = await openDevice(browser, inst.base, problems, { ...options, acceptDialogs: true });
    const page = await device.newPage();
    await signInWithForm(page, inst.base, username, password);
    await page.click('nav[aria-label=Main] >> text=Projects');
    await page.waitForURL(`${inst.base}/projects`);
    return page;
  }
  const row = (page: Page, name: string) => page.locator('tr[data-project]', { hasText: name });
  const names = (page: Page) => page.locator('tr[data-project] [data-name]').allTextContents();

  it('lets a manager create, edit and delete a project, with inline validation errors first', {
    timeout: 60_000,
  }, async () => {
    const page = await projectsAs('mia');
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
    const created = (await api(inst.base, mia, 'GET', '/api/projects?q=Roadmap')).body.items;
    expect(created).toMatchObject([
      { name: 'Roadmap', owner_id: ids.mia, description: 'Plans for next year' },
    ]);
    const id: number = created[0].id;

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
    expect((await api(inst.base, mia, 'GET', `/api/projects/${id}`)).body).toMatchObject({
      name: 'Roadmap 2027',
      description: 'Revised',
    });

    await page.click(`tr[data-project="${id}"] >> text=Delete`);
    await page.click('#confirm-dialog[open] [data-confirm-yes]');
    await page.waitForSelector(`tr[data-project="${id}"]`, { state: 'detached' });
    expect(await names(page)).toEqual(['Shared work']);
    expect((await api(inst.base, mia, 'GET', `/api/projects/${id}`)).status).toBe(404);
    // All of it in place, without a reload.
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
    await page.context().close();
  });

  it('lets an admin see every project with its owner and create one for a manager', {
    timeout: 60_000,
  }, async () => {
    const page = await projectsAs(ADMIN.username, ADMIN.password);
    expect(await names(page)).toEqual(['Max only', 'Shared work']);
    expect(await row(page, 'Shared work').textContent()).toContain('Mia Manager');
    await page.fill('#new-name', 'Handed over');
    await page.selectOption('#new-owner_id', String(ids.mia));
    await page.click('text=Create project');
    await row(page, 'Handed over').waitFor();
    expect(await row(page, 'Handed over').textContent()).toContain('Mia Manager');
    const mine = (await api(inst.base, mia, 'GET', '/api/projects')).body.items.map(
      (p: { name: string }) => p.name,
    );
    expect(mine).toEqual(['Handed over', 'Shared work']);
    await page.context().close();
  });

  it('shows a user only the projects holding their tasks, with no controls; forged posts are 404', {
    timeout: 60_000,
  }, async () => {
    const page = await projectsAs('uma');
    expect(await names(page)).toEqual(['Shared work']);
    expect(await page.locator('#projects form, #projects button, #projects summary').count()).toBe(0);
    expect(await page.getByText('New project').count()).toBe(0);
    // The same requests the manager's forms make, with this user's cookie, from the portal's origin.
    const post = async (on: Page, path: string, form: Record<string, string>) =>
      (
        await on.request.post(`${inst.base}${path}`, {
          form,
          headers: { origin: inst.base, 'hx-request': 'true' },
        })
      ).status();
    const statuses = [
      await post(page, '/projects/new', { name: 'Sneaky' }),
      await post(page, `/projects/${ids.shared}/edit`, { name: 'Renamed', description: '' }),
      await post(page, `/projects/${ids.shared}/delete`, {}),
    ];
    expect(statuses).toEqual([404, 404, 404]);
    const still = (await api(inst.base, admin, 'GET', `/api/projects/${ids.shared}`)).body;
    expect(still.name).toBe('Shared work');
    expect((await api(inst.base, admin, 'GET', '/api/projects?q=Sneaky')).body.total).toBe(0);
    // A manager cannot reach another manager's project either.
    const manager = await projectsAs('mia');
    const status = await post(manager, `/projects/${ids.other}/delete`, {});
    expect(status).toBe(404);
    expect((await api(inst.base, admin, 'GET', `/api/projects/${ids.other}`)).status).toBe(200);
    await page.context().close();
    await manager.context().close();
  });

  it('works as plain forms and full pages without JavaScript', { timeout: 60_000 }, async () => {
    const page = await projectsAs('mia', PW, { javaScriptEnabled: false });
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

  it('logged no console errors and made no request outside the portal', () => {
    expect(problems).toEqual([]);
  });
});
