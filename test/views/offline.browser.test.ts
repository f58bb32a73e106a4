import type { Page } from 'playwright-core';
import { signInWithForm } from '../support/browser.ts';
import { startInstance } from '../support/cluster.ts';
import {
  type ApiList,
  type ApiProject,
  type ApiTask,
  type ApiUser,
  expect,
  type PageAs,
  PASSWORD as PW,
  test,
} from '../support/fixtures.ts';
import { api } from '../support/live-client.ts';

/** Requests that could not be sent are logged by the browser and by htmx; nothing else may be. */
const EXPECTED =
  /net::ERR_(INTERNET_DISCONNECTED|CONNECTION_REFUSED|FAILED)|htmx:(sendError|afterRequest|responseError|timeout)|Response Status Error Code 404 from \/tasks\/\d+\/status|status of 404|WebSocket connection to .* failed/;

test.override({
  cast: { mia: 'manager', tia: 'user', ulla: 'user' },
  plan: {
    project: { name: 'Harbour' },
    by: 'mia',
    tasks: ['Moor', 'Sail', 'Anchor', 'Dock'].map((title) => ({ title, assignee: 'tia' })),
  },
});

/**
 * Writes made while the network is gone or the server is down: none may look saved. An in-place
 * control goes back to its saved value, a form keeps what was typed, a notice says what was not
 * saved and offers Retry; after the connection is back, Retry saves it. And the connection
 * indicator says "Live" again as soon as the socket is back, with no change to carry.
 */
test.describe('offline and server down in Chromium', () => {
  let base: string;
  let admin: string;
  const ids = { mia: 0, tia: 0, ulla: 0, project: 0, tasks: [] as number[] };
  test.beforeAll(({ portal, people, world }) => {
    base = portal.base;
    admin = portal.admin;
    for (const name of ['mia', 'tia', 'ulla'] as const) ids[name] = people.get(name).id;
    ids.project = world.project.id;
    ids.tasks = world.tasks.map((t) => t.id);
  });

  /** Says yes to confirm(); the network failures this file causes on purpose are no failure. */
  async function open(pageAs: PageAs, username: string, path: string): Promise<Page> {
    return pageAs(username, { path, device: { acceptDialogs: true }, allow: EXPECTED });
  }
  const notice = (page: Page) => page.locator('[data-write-notice] [role=alert]');
  const retry = (page: Page) => page.locator('[data-write-notice]').getByRole('button', { name: 'Retry' });
  const statusOf = async (id: number) =>
    (await api<ApiTask>(base, admin, 'GET', `/api/tasks/${id}`)).body.status;
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

  test('a status changed in the list while offline goes back, says so, and Retry saves it', {
    timeout: 60_000,
  }, async ({ pageAs }) => {
    const page = await open(pageAs, 'tia', '/tasks');
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

  test('a status change the server refuses (the task is gone) goes back, with the reason and no Retry', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    // No live updates on this page (its socket goes nowhere): the list would drop the task otherwise.
    const page = await pageAs(null, { allow: EXPECTED });
    await page.routeWebSocket(/\/ws/, () => {});
    await signInWithForm(page, portal.base, 'tia', PW, '/tasks');
    const id = ids.tasks[3]!;
    await portal.api('DELETE', `/api/tasks/${id}`);
    await page.selectOption(`#status-${id}`, 'blocked');
    await says(page, /^Not saved: Status of Dock — .*not found/i);
    expect(await page.inputValue(`#status-${id}`)).toBe('todo');
    expect(await retry(page).isVisible()).toBe(false);
    await page.context().close();
  });

  test('the task dialog keeps what was typed when create, save or delete cannot get through', {
    timeout: 90_000,
  }, async ({ pageAs, people, portal }) => {
    const page = await open(pageAs, 'mia', '/tasks');
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
    await page.waitForFunction(() => !document.querySelector('dialog[open]'));
    expect(await page.textContent('#task-notice')).toContain('Raise the flag');
    const mia = await people.token('mia');
    const created = (await portal.apiAs<ApiList<ApiTask>>(mia, 'GET', '/api/tasks?q=Raise')).body.items;
    expect(created).toHaveLength(1);
    const id = created[0]!.id;
    await gone(page);

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
    expect((await portal.apiAs<ApiTask>(mia, 'GET', `/api/tasks/${id}`)).body.title).toBe('Raise the flag');
    await page.unroute('**/tasks/*/edit');
    await retry(page).click();
    await page.waitForFunction(() => !document.querySelector('dialog[open]'));
    expect((await portal.apiAs<ApiTask>(mia, 'GET', `/api/tasks/${id}`)).body.title).toBe('Raise both flags');

    // Delete, offline: the task stays, and says so.
    await page.click(`#task-edit-${id}`);
    await page.waitForSelector('dialog#task-dialog[open] form');
    await page.context().setOffline(true);
    await page.click('#task-dialog >> text=Delete task');
    await page.click('#confirm-dialog[open] [data-confirm-yes]');
    await says(page, /^Not done: Delete task — the portal could not be reached/);
    expect((await portal.apiAs(mia, 'GET', `/api/tasks/${id}`)).status).toBe(200);
    // Given up: the dialog closes and the notice about it goes with it.
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !document.querySelector('dialog[open]'));
    // Cleared as the dialog closes, in the same moment but not the same task: waited for, not read at once.
    await gone(page);
    await page.context().close();
  });

  test('project create, edit and delete say when they did not get through', { timeout: 60_000 }, async ({
    pageAs,
    portal,
  }) => {
    const page = await open(pageAs, 'mia', '/projects');
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
    expect((await portal.api<ApiProject>('GET', `/api/projects/${ids.project}`)).body.name).toBe('Harbour');
    await page.getByRole('button', { name: 'Dismiss' }).click();
    await gone(page);

    await row.getByRole('button', { name: /Delete/ }).click();
    // Offline, the dialog cannot count what would go, and says so; confirmed, the delete is tried.
    await page.click('#confirm-dialog[open] [data-confirm-yes]');
    await says(page, /^Not done: Delete Harbour — the portal could not be reached/);
    expect((await portal.api('GET', `/api/projects/${ids.project}`)).status).toBe(200);
    await page.context().close();
  });

  test('user admin: a role select goes back, and the row forms say when they did not get through', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const page = await open(pageAs, 'admin', '/users');
    await page.context().setOffline(true);
    // The role select submits with its own "Change" button (no submit on change: WCAG H32).
    await page.selectOption(`#role-${ids.ulla}`, 'manager');
    await page.getByRole('button', { name: 'Change role of ulla' }).click();
    await says(page, /could not be reached/);
    expect((await portal.api<ApiUser>('GET', `/api/users/${ids.ulla}`)).body.role).toBe('user');
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
    const ulla = (await portal.api<ApiUser>('GET', `/api/users/${ids.ulla}`)).body;
    expect(ulla).toMatchObject({ role: 'user', active: true });
    expect((await portal.api<ApiList<ApiUser>>('GET', '/api/users?q=otto')).body.total).toBe(0);

    await page.context().setOffline(false);
    await retry(page).click();
    await page.waitForSelector('tr[data-user="otto"]');
    await gone(page);
    await page.context().close();
  });

  test('ending another sign-in on /account while offline says so; Retry ends it', {
    timeout: 60_000,
  }, async ({ pageAs }) => {
    const phone = await open(pageAs, 'ulla', '/dashboard');
    const page = await open(pageAs, 'ulla', '/account');
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

  test('says "Live" again within seconds of the network coming back, with nothing changed', {
    timeout: 60_000,
  }, async ({ pageAs }) => {
    const page = await open(pageAs, 'tia', '/dashboard');
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

  test('a status changed while the server is down goes back; Retry saves it once the server is back', {
    timeout: 90_000,
  }, async ({ pageAs, portal }) => {
    const page = await open(pageAs, 'tia', '/tasks');
    await page.waitForSelector('[data-connection="live"]');
    const id = ids.tasks[1]!;
    await portal.instance.stop('SIGKILL');
    await page.selectOption(`#status-${id}`, 'in_progress');
    await says(page, /^Not saved: Status of Sail — the portal could not be reached/);
    expect(await page.inputValue(`#status-${id}`)).toBe('todo');
    // The same server comes back on the same address.
    const back = await startInstance({ ...portal.cluster.env, PORT: String(portal.instance.port) });
    portal.cluster.instances.push(back);
    expect(await statusOf(id)).toBe('todo');
    await retry(page).click();
    await page.waitForSelector(`[data-column="in_progress"] li[data-card="${id}"]`);
    expect(await statusOf(id)).toBe('in_progress');
    await page.context().close();
  });

  test('raised no console errors but the expected network failures, and stayed in the portal', ({
    problems,
  }) => {
    const expected = EXPECTED;
    expect(problems.filter((p) => !expected.test(p))).toEqual([]);
  });
});
