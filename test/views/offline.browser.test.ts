import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice, signInWithForm } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster, startInstance } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';

/**
 * Writes made while the network is gone or the server is down: none may look saved. An in-place
 * control goes back to its saved value, a form keeps what was typed, a notice says what was not
 * saved and offers Retry; after the connection is back, Retry saves it. And the connection
 * indicator says "Live" again as soon as the socket is back, with no change to carry.
 */
describe('offline and server down in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  let admin: string;
  const ids = { mia: 0, tia: 0, ulla: 0, project: 0, tasks: [] as number[] };
  const problems: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const user = (username: string, role: string) =>
      api(inst.base, admin, 'POST', '/api/users', { username, password: PW, role });
    ids.mia = (await user('mia', 'manager')).body.id;
    ids.tia = (await user('tia', 'user')).body.id;
    ids.ulla = (await user('ulla', 'user')).body.id;
    const mia = await signIn(inst.base, 'mia', PW);
    ids.project = (await api(inst.base, mia, 'POST', '/api/projects', { name: 'Harbour' })).body.id;
    for (const title of ['Moor', 'Sail', 'Anchor', 'Dock']) {
      const t = await api(inst.base, mia, 'POST', '/api/tasks', {
        project_id: ids.project,
        title,
        assignee_id: ids.tia,
      });
      ids.tasks.push(t.body.id);
    }
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  async function open(username: string, path: string, password = PW): Promise<Page> {
    const device = await openDevice(browser, inst.base, problems, { acceptDialogs: true });
    const page = await device.newPage();
    await signInWithForm(page, inst.base, username, password, path);
    return page;
  }
  const notice = (page: Page) => page.locator('[data-write-notice] [role=alert]');
  const retry = (page: Page) => page.locator('[data-write-notice]').getByRole('button', { name: 'Retry' });
  const statusOf = async (id: number) => (await api(inst.base, admin, 'GET', `/api/tasks/${id}`)).body.status;
  /** Waits until the notice says what `pattern` expects (it starts empty: a live region exists before it speaks). */
  const says = async (page: Page, pattern: RegExp) => {
    await page
      .waitForFunction(
        ([source, flags]) =>
          new RegExp(source!, flags).test(
            document.querySelector('[data-write-notice] [role=alert]')?.textContent ?? '',
          ),
        [pattern.source, pattern.flags],
        { timeout: 10_000 },
      )
      .catch(() => {});
    const text = (await notice(page).textContent()) ?? '';
    expect(text).toMatch(pattern);
    return text;
  };
  const gone = (page: Page) =>
    page.waitForFunction(
      () => (document.querySelector('[data-write-notice] [role=alert]')?.textContent ?? '') === '',
      undefined,
      { timeout: 10_000 },
    );

  it('a status changed in the list while offline goes back, says so, and Retry saves it', {
    timeout: 60_000,
  }, async () => {
    const page = await open('tia', '/tasks');
    await page.waitForSelector('[data-connection="live"]');
    const id = ids.tasks[0]!;
    await page.context().setOffline(true);
    await page.selectOption(`#status-${id}`, 'done');
    const text = await says(page, /^Not saved: Status of Moor — the portal could not be reached/);
    expect(text).toContain('It is back to “To do”');
    // The select shows what the server has, and the server still has it.
    expect(await page.inputValue(`#status-${id}`)).toBe('todo');
    expect(await page.locator(`[data-column="todo"] li[data-card="${id}"]`).count()).toBe(1);
    expect(await statusOf(id)).toBe('todo');

    await page.context().setOffline(false);
    await retry(page).click();
    await page.waitForSelector(`[data-column="done"] li[data-card="${id}"]`);
    await gone(page);
    expect(await page.inputValue(`#status-${id}`)).toBe('done');
    expect(await statusOf(id)).toBe('done');
    // Focus went back to the control that was saved, not to the top of the page.
    await page.waitForFunction((sid) => document.activeElement?.id === sid, `status-${id}`);
    await page.context().close();
  });

  it('a status change the server refuses (the task is gone) goes back, with the reason and no Retry', {
    timeout: 60_000,
  }, async () => {
    // No live updates on this page (its socket goes nowhere): the list would drop the task otherwise.
    const page = await (await openDevice(browser, inst.base, problems)).newPage();
    await page.routeWebSocket(/\/ws/, () => {});
    await signInWithForm(page, inst.base, 'tia', PW, '/tasks');
    const id = ids.tasks[3]!;
    await api(inst.base, admin, 'DELETE', `/api/tasks/${id}`);
    await page.selectOption(`#status-${id}`, 'blocked');
    await says(page, /^Not saved: Status of Dock — .*not found/i);
    expect(await page.inputValue(`#status-${id}`)).toBe('todo');
    expect(await retry(page).isVisible()).toBe(false);
    await page.context().close();
  });

  it('the task dialog keeps what was typed when create, save or delete cannot get through', {
    timeout: 90_000,
  }, async () => {
    const page = await open('mia', '/tasks');
    await page.waitForSelector('[data-connection="live"]');
    // Create.
    await page.click('#task-new');
    await page.waitForSelector('dialog#task-dialog[open] form');
    await page.fill('#tf-title', 'Raise the flag');
    await page.context().setOffline(true);
    await page.click('#task-dialog >> text=Create task');
    await says(page, /^Not done: Create task — the portal could not be reached.*still here/);
    // The notice is in the dialog (a modal lets nothing else be reached), the dialog and the title stay.
    expect(await page.locator('dialog#task-dialog[open] [data-write-notice]').count()).toBe(1);
    expect(await page.inputValue('#tf-title')).toBe('Raise the flag');
    await page.context().setOffline(false);
    await retry(page).click();
    await page.waitForFunction(() => document.querySelector('dialog')?.open === false);
    expect(await page.textContent('#task-notice')).toContain('Raise the flag');
    const mia = await signIn(inst.base, 'mia', PW);
    const created = (await api(inst.base, mia, 'GET', '/api/tasks?q=Raise')).body.items;
    expect(created).toHaveLength(1);
    const id: number = created[0].id;
    expect(await notice(page).textContent()).toBe('');

    // Save an edit, with the server unreachable (connection refused).
    await page.click(`#task-edit-${id}`);
    await page.waitForSelector('dialog#task-dialog[open] form');
    await page.fill('#tf-title', 'Raise both flags');
    await page.route('**/tasks/*/edit', (route) =>
      route.request().method() === 'POST' ? route.abort('connectionrefused') : route.continue(),
    );
    await page.click('#task-dialog >> text=Save');
    await says(page, /^Not done: Save — the portal could not be reached/);
    expect(await page.inputValue('#tf-title')).toBe('Raise both flags');
    expect((await api(inst.base, mia, 'GET', `/api/tasks/${id}`)).body.title).toBe('Raise the flag');
    await page.unroute('**/tasks/*/edit');
    await retry(page).click();
    await page.waitForFunction(() => document.querySelector('dialog')?.open === false);
    expect((await api(inst.base, mia, 'GET', `/api/tasks/${id}`)).body.title).toBe('Raise both flags');

    // Delete, offline: the task stays, and says so.
    await page.click(`#task-edit-${id}`);
    await page.waitForSelector('dialog#task-dialog[open] form');
    await page.context().setOffline(true);
    await page.click('#task-dialog >> text=Delete task');
    await page.click('#confirm-dialog[open] [data-confirm-yes]');
    await says(page, /^Not done: Delete task — the portal could not be reached/);
    expect((await api(inst.base, mia, 'GET', `/api/tasks/${id}`)).status).toBe(200);
    // Given up: the dialog closes and the notice about it goes with it.
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => document.querySelector('dialog')?.open === false);
    expect(await notice(page).textContent()).toBe('');
    await page.context().close();
  });

  it('project create, edit and delete say when they did not get through', { timeout: 60_000 }, async () => {
    const page = await open('mia', '/projects');
    await page.context().setOffline(true);
    await page.fill('#new-name', 'Lighthouse');
    await page.click('text=Create project');
    await says(page, /^Not done: Create project — the portal could not be reached/);
    expect(await page.inputValue('#new-name')).toBe('Lighthouse');
    await page.context().setOffline(false);
    await retry(page).click();
    await page.locator('tr[data-project]', { hasText: 'Lighthouse' }).waitFor();
    await gone(page);

    const row = page.locator(`tr[data-project="${ids.project}"]`);
    await row.locator('summary').click();
    await page.fill(`#edit-${ids.project}-name`, 'Harbour West');
    await page.context().setOffline(true);
    await row.getByRole('button', { name: 'Save' }).click();
    await says(page, /^Not done: Save — the portal could not be reached/);
    expect(await page.inputValue(`#edit-${ids.project}-name`)).toBe('Harbour West');
    expect((await api(inst.base, admin, 'GET', `/api/projects/${ids.project}`)).body.name).toBe('Harbour');
    await page.getByRole('button', { name: 'Dismiss' }).click();
    expect(await notice(page).textContent()).toBe('');

    await row.getByRole('button', { name: /Delete/ }).click();
    // Offline, the dialog cannot count what would go, and says so; confirmed, the delete is tried.
    await page.click('#confirm-dialog[open] [data-confirm-yes]');
    await says(page, /^Not done: Delete Harbour — the portal could not be reached/);
    expect((await api(inst.base, admin, 'GET', `/api/projects/${ids.project}`)).status).toBe(200);
    await page.context().close();
  });

  it('user admin: a role select goes back, and the row forms say when they did not get through', {
    timeout: 60_000,
  }, async () => {
    const page = await open(ADMIN.username, '/users', ADMIN.password);
    await page.context().setOffline(true);
    // The role select submits with its own "Change" button (no submit on change: WCAG H32).
    await page.selectOption(`#role-${ids.ulla}`, 'manager');
    await page.getByRole('button', { name: 'Change role of ulla' }).click();
    await says(page, /could not be reached/);
    expect((await api(inst.base, admin, 'GET', `/api/users/${ids.ulla}`)).body.role).toBe('user');
    await page.getByRole('button', { name: 'Dismiss' }).click();
    const row = page.locator('tr[data-user="ulla"]');
    await row.getByRole('button', { name: 'Deactivate' }).click();
    await says(page, /^Not done: Deactivate — the portal could not be reached/);
    expect(await row.textContent()).toContain('active');
    await page.fill(`#pw-${ids.ulla}`, 'another-long-password');
    await row.getByRole('button', { name: 'Reset password' }).click();
    await says(page, /^Not done: Reset password — /);
    await page.fill('#new-username', 'otto');
    await page.fill('#new-password', 'a-long-user-password');
    await page.click('text=Create user');
    await says(page, /^Not done: Create user — /);
    const ulla = (await api(inst.base, admin, 'GET', `/api/users/${ids.ulla}`)).body;
    expect(ulla).toMatchObject({ role: 'user', active: true });
    expect((await api(inst.base, admin, 'GET', '/api/users?q=otto')).body.total).toBe(0);

    await page.context().setOffline(false);
    await retry(page).click();
    await page.waitForSelector('tr[data-user="otto"]');
    await gone(page);
    await page.context().close();
  });

  it('ending another sign-in on /account while offline says so; Retry ends it', {
    timeout: 60_000,
  }, async () => {
    const phone = await open('ulla', '/dashboard');
    const page = await open('ulla', '/account');
    const rows = page.locator('tr[data-session]');
    expect(await rows.count()).toBe(2);
    await page.context().setOffline(true);
    const other = page.getByRole('button', { name: /^Sign out (?!everywhere)/ }).first();
    await other.click();
    await says(page, /^Not done: Sign out .* — the portal could not be reached/);
    expect(await rows.count()).toBe(2);
    await page.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await says(page, /^Not done: Sign out everywhere else — /);
    expect(await rows.count()).toBe(2);
    await page.context().setOffline(false);
    await retry(page).click();
    await page.waitForFunction(() => document.querySelectorAll('tr[data-session]').length === 1);
    await gone(page);
    await phone.waitForURL(/\/login/);
    await phone.context().close();
    await page.context().close();
  });

  it('says "Live" again within seconds of the network coming back, with nothing changed', {
    timeout: 60_000,
  }, async () => {
    const page = await open('tia', '/dashboard');
    await page.waitForSelector('[data-connection="live"]');
    await page.context().setOffline(true);
    await page.waitForSelector('[data-connection="offline"]');
    // About ten seconds without a network; nobody changes anything meanwhile.
    await page.waitForTimeout(10_000);
    await page.context().setOffline(false);
    await page.waitForSelector('[data-connection="live"]', { timeout: 3000 });
    expect(await page.textContent('[data-connection-label]')).toBe('Live');
    await page.context().close();
  });

  it('a status changed while the server is down goes back; Retry saves it once the server is back', {
    timeout: 90_000,
  }, async () => {
    const page = await open('tia', '/tasks');
    await page.waitForSelector('[data-connection="live"]');
    const id = ids.tasks[1]!;
    await inst.stop('SIGKILL');
    await page.selectOption(`#status-${id}`, 'in_progress');
    await says(page, /^Not saved: Status of Sail — the portal could not be reached/);
    expect(await page.inputValue(`#status-${id}`)).toBe('todo');
    // The same server comes back on the same address.
    const back = await startInstance({ ...cluster.env, PORT: String(inst.port) });
    cluster.instances.push(back);
    expect(await statusOf(id)).toBe('todo');
    await retry(page).click();
    await page.waitForSelector(`[data-column="in_progress"] li[data-card="${id}"]`);
    expect(await statusOf(id)).toBe('in_progress');
    await page.context().close();
  });

  it('raised no console errors but the expected network failures, and stayed in the portal', () => {
    // Requests that could not be sent are logged by the browser and by htmx; nothing else may be.
    const expected =
      /net::ERR_(INTERNET_DISCONNECTED|CONNECTION_REFUSED|FAILED)|htmx:(sendError|afterRequest|responseError|timeout)|Response Status Error Code 404 from \/tasks\/\d+\/status|status of 404|WebSocket connection to .* failed/;
    expect(problems.filter((p) => !expected.test(p))).toEqual([]);
  });
});
