import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice, signInWithForm } from '../support/browser.ts';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { validateHtml } from '../support/html-validate.ts';
import { api, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';

/**
 * No lost edits (docs/ui-writes.md): two people editing the same task, project or user in their
 * browsers, and writes from the API and psql while a form is open. Whoever saves second either
 * sees who changed what and chooses (Reload: theirs; Overwrite: mine), or is refused with the same
 * choice; nothing is ever overwritten silently.
 */
describe('no lost edits in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  let admin: string;
  let mia: string;
  const ids = { mia: 0, ursa: 0, project: 0, other: 0 };
  const problems: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const user = (username: string, role: string, display_name?: string) =>
      api(inst.base, admin, 'POST', '/api/users', { username, password: PW, role, display_name });
    ids.mia = (await user('mia', 'manager', 'Mia Lindqvist')).body.id;
    ids.ursa = (await user('ursa', 'user', 'Ursa U.')).body.id;
    mia = await signIn(inst.base, 'mia', PW);
    ids.project = (await api(inst.base, mia, 'POST', '/api/projects', { name: 'Apollo' })).body.id;
    ids.other = (await api(inst.base, mia, 'POST', '/api/projects', { name: 'Gemini' })).body.id;
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  const newTask = async (title: string) =>
    (
      await api(inst.base, mia, 'POST', '/api/tasks', {
        project_id: ids.project,
        title,
        assignee_id: ids.ursa,
        description: 'as created',
      })
    ).body.id as number;
  const task = async (id: number) => (await api(inst.base, admin, 'GET', `/api/tasks/${id}`)).body;
  const psql = async (text: string, values: unknown[]) => {
    const sql = new pg.Client({ connectionString: cluster.databaseUrl });
    await sql.connect();
    try {
      await sql.query(text, values);
    } finally {
      await sql.end();
    }
  };
  async function open(username: string, password: string, path: string, js = true): Promise<Page> {
    const device = await openDevice(browser, inst.base, problems, {
      acceptDialogs: true,
      javaScriptEnabled: js,
    });
    const page = await device.newPage();
    await signInWithForm(page, inst.base, username, password, path);
    if (js && path.startsWith('/tasks')) await page.waitForSelector('[data-connection="live"]');
    return page;
  }
  const openDialog = async (page: Page, id: number) => {
    await page.click(`#task-edit-${id}`);
    await page.waitForSelector('dialog#task-dialog[open] form[data-watch]');
  };
  const dialogClosed = (page: Page) =>
    page.waitForFunction(() => !document.querySelector('dialog[open]'), undefined, {
      timeout: 10_000,
    });
  /** Chromium logs every 4xx answer (412 here) and every refused request (the blocked watch) as a console error. */
  const unexpected = () =>
    problems.filter((p) => !/status of 412|Error Code 412|ERR_CONNECTION_REFUSED/.test(p));

  it('two people edit the same task: the first one’s open dialog says at once who changed what, and Overwrite saves hers', {
    timeout: 90_000,
  }, async () => {
    const id = await newTask('Fuel');
    const first = await open('mia', PW, '/tasks');
    const second = await open(ADMIN.username, ADMIN.password, '/tasks');
    await openDialog(first, id);
    await first.fill('#tf-description', 'checked by Mia');

    const watched = first.waitForResponse(
      (r) => r.url().includes(`/tasks/${id}/changes`) && r.status() === 200,
    );
    await openDialog(second, id);
    await second.fill('#tf-title', 'Fuel (chief)');
    await second.selectOption('#tf-priority', 'urgent');
    await second.click('#task-dialog >> text=Save');
    await dialogClosed(second);
    const saved = Date.now();

    // Mia's dialog is still open, with what she typed, and tells her at once.
    const notice = await first.waitForSelector('#task-dialog [data-conflict]', { timeout: 5000 });
    const after = Date.now() - saved;
    expect(after).toBeLessThan(2000); // ~1 s (a 700 ms watch, and the realtime event); slack for load
    const text = (await notice.textContent()) ?? '';
    expect(text).toContain('Administrator changed this task');
    expect(text).toMatch(/title: Fuel → Fuel \(chief\)/);
    expect(text).toMatch(/priority: medium → urgent/);
    expect(await first.inputValue('#tf-description')).toBe('checked by Mia');
    expect(await first.getAttribute('#task-dialog [data-conflict]', 'role')).toBe('alert');
    expect(await validateHtml(await (await watched).text(), 'fragment')).toEqual([]);
    // Nothing of hers is saved yet.
    expect((await task(id)).description).toBe('as created');

    await first.click('#task-dialog >> text=Overwrite with mine');
    await dialogClosed(first);
    const now = await task(id);
    expect(now.title).toBe('Fuel'); // her form's title, over his
    expect(now.description).toBe('checked by Mia');
    expect(unexpected()).toEqual([]);
  });

  it('Reload shows the other values and drops nothing but the stale form; saving then works', {
    timeout: 90_000,
  }, async () => {
    const id = await newTask('Oxygen');
    const page = await open('mia', PW, '/tasks');
    await openDialog(page, id);
    await page.fill('#tf-title', 'Oxygen (mine)');
    // A change through the API while her dialog is open.
    await api(inst.base, admin, 'PATCH', `/api/tasks/${id}`, { title: 'Oxygen v2', status: 'blocked' });
    await page.waitForSelector('#task-dialog [data-conflict]', { timeout: 5000 });
    expect(await page.textContent('#task-dialog [data-conflict]')).toMatch(/status: To do → Blocked/);

    await page.click('#task-dialog [data-reload]');
    // The fresh form, settled: htmx focuses its [autofocus] field (the title) once swapped in.
    await page.waitForFunction(
      () =>
        !document.querySelector('#task-dialog [data-conflict]') && document.activeElement?.id === 'tf-title',
    );
    expect(await page.inputValue('#tf-title')).toBe('Oxygen v2');
    expect(await page.inputValue('#tf-status')).toBe('blocked');
    expect(await page.evaluate(() => (document.querySelector('dialog') as HTMLDialogElement).open)).toBe(
      true,
    );

    await page.fill('#tf-description', 'now on the current version');
    await page.click('#task-dialog >> text=Save');
    await dialogClosed(page);
    const now = await task(id);
    expect(now).toMatchObject({
      title: 'Oxygen v2',
      status: 'blocked',
      description: 'now on the current version',
    });
    expect(unexpected()).toEqual([]);
  });

  it('a save on a stale version (psql wrote meanwhile) is refused with the same choice; nothing is overwritten', {
    timeout: 90_000,
  }, async () => {
    const id = await newTask('Hull');
    const page = await open('mia', PW, '/tasks');
    // The watch cannot get through: only the save can find out.
    await page.route('**/tasks/*/changes*', (route) => route.abort('connectionrefused'));
    await openDialog(page, id);
    await page.fill('#tf-title', 'Hull (mine)');
    await psql(`update tasks set description = 'welded by psql' where id = $1`, [id]);
    const refused = page.waitForResponse(
      (r) => r.url().endsWith(`/tasks/${id}/edit`) && r.request().method() === 'POST',
    );
    await page.click('#task-dialog >> text=Save');
    expect(await validateHtml(await (await refused).text(), 'fragment')).toEqual([]);

    const notice = await page.waitForSelector('#task-dialog [data-conflict]', { timeout: 5000 });
    const text = (await notice.textContent()) ?? '';
    expect(text).toContain('someone outside the portal (SQL) changed this task');
    expect(text).toMatch(/description: as created → welded by psql/);
    expect(text).toContain('Your save was refused');
    expect(await page.inputValue('#tf-title')).toBe('Hull (mine)');
    expect(await task(id)).toMatchObject({ title: 'Hull', description: 'welded by psql' });

    // Save again without choosing: still refused (the form keeps the version it was opened with).
    const again = page.waitForResponse(
      (r) => r.url().endsWith(`/tasks/${id}/edit`) && r.request().method() === 'POST',
    );
    await page.click('#task-dialog button:text("Save")');
    await again;
    await page.waitForSelector('#task-dialog [data-conflict]');
    expect((await task(id)).title).toBe('Hull');

    await page.click('#task-dialog >> text=Overwrite with mine');
    await dialogClosed(page);
    expect(await task(id)).toMatchObject({ title: 'Hull (mine)', description: 'as created' });
    expect(unexpected()).toEqual([]);
  });

  it('the task page’s form without JavaScript: a stale save gets a page with the notice, not an error', {
    timeout: 90_000,
  }, async () => {
    const id = await newTask('Antenna');
    const page = await open('mia', PW, `/tasks/${id}/edit`, false);
    await page.fill('#tf-title', 'Antenna (mine)');
    await psql(`update tasks set title = 'Antenna by psql' where id = $1`, [id]);
    const answer = page.waitForResponse(
      (r) => r.url().endsWith(`/tasks/${id}/edit`) && r.request().method() === 'POST',
    );
    await page.click('button:text("Save")');
    expect((await answer).status()).toBeLessThan(500);
    expect(await validateHtml(await (await answer).text())).toEqual([]);
    const text = (await page.textContent('[data-conflict]')) ?? '';
    expect(text).toMatch(/title: Antenna → Antenna by psql/);
    expect(await page.inputValue('#tf-title')).toBe('Antenna (mine)');
    expect((await task(id)).title).toBe('Antenna by psql');

    // Reload is a plain link: the form with the current values.
    await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/tasks/${id}/edit`) && r.request().method() === 'GET'),
      page.click('[data-conflict] [data-reload]'),
    ]);
    await page.waitForLoadState();
    expect(await page.inputValue('#tf-title')).toBe('Antenna by psql');
    expect(await page.$('[data-conflict]')).toBeNull();

    // Stale again, and this time Overwrite: a plain submit button of the form, no script needed.
    await psql(`update tasks set priority = 'high' where id = $1`, [id]);
    await page.fill('#tf-title', 'Antenna (mine, again)');
    await page.click('button:text("Save")');
    await page.waitForSelector('[data-conflict]');
    expect(await page.textContent('[data-conflict]')).toMatch(/priority: medium → high/);
    await page.click('[data-conflict] >> text=Overwrite with mine');
    await page.waitForURL(`${inst.base}/tasks`);
    // Hers, as her form had it: every field of it, the priority it showed included.
    expect(await task(id)).toMatchObject({ title: 'Antenna (mine, again)', priority: 'medium' });
  });

  it('an in-place status select on a stale row is put back, says who changed what, and offers Overwrite', {
    timeout: 90_000,
  }, async () => {
    const id = await newTask('Thruster');
    const page = await open('mia', PW, '/tasks');
    // A title alone moves no dashboard number: the list is not refreshed, its row is stale.
    await psql(`update tasks set title = 'Thruster by psql' where id = $1`, [id]);
    await page.selectOption(`#status-${id}`, 'in_progress');
    await page.waitForSelector('[data-write-notice].open');
    const text = (await page.textContent('[data-write-notice]')) ?? '';
    expect(text).toMatch(/title Thruster → Thruster by psql/);
    // Only what changed since the list was read: not the task's creation.
    expect(text).not.toContain('created it');
    expect(text).toContain('Nothing of yours was saved');
    expect(await page.inputValue(`#status-${id}`)).toBe('todo');
    expect((await task(id)).status).toBe('todo');

    await page.click('[data-write-notice] >> text=Overwrite with mine');
    await page.waitForFunction(
      () => !document.querySelector('[data-write-notice]')?.classList.contains('open'),
    );
    expect(await task(id)).toMatchObject({ status: 'in_progress', title: 'Thruster by psql' });
  });

  it('the list without JavaScript: a status change on a stale row gets a page with the notice and the choice', {
    timeout: 90_000,
  }, async () => {
    const id = await newTask('Valve');
    const page = await open('mia', PW, '/tasks', false);
    await psql(`update tasks set title = 'Valve by psql' where id = $1`, [id]);
    await page.selectOption(`#status-${id}`, 'done');
    const answer = page.waitForResponse((r) => r.url().endsWith(`/tasks/${id}/status`));
    await page.click(`tr[data-task="${id}"] form button:text("Save")`);
    expect((await answer).status()).toBe(412);
    expect(await validateHtml(await (await answer).text())).toEqual([]);
    expect(await page.textContent('[data-conflict]')).toMatch(/title: Valve → Valve by psql/);
    expect(await page.inputValue('#tf-status')).toBe('done');
    expect((await task(id)).status).toBe('todo');
    await page.click('[data-conflict] >> text=Overwrite with mine');
    await page.waitForURL(`${inst.base}/tasks`);
    expect(await task(id)).toMatchObject({ status: 'done', title: 'Valve by psql' });
  });

  it('a board move on a stale card is refused and says what changed; moved again, it goes', {
    timeout: 90_000,
  }, async () => {
    const id = await newTask('Gasket');
    const page = await open('mia', PW, '/tasks');
    const card = `[data-board] li[data-card="${id}"]`;
    await psql(`update tasks set title = 'Gasket by psql' where id = $1`, [id]);
    await page.click(`${card} summary`);
    await page.click(`${card} [data-move-to="blocked"]`);
    await page.waitForFunction(() =>
      document.getElementById('board-notice')?.textContent?.startsWith('Could not move'),
    );
    expect(await page.textContent('#board-notice')).toContain('its title is now “Gasket by psql”');
    expect((await task(id)).status).toBe('todo');
    // The board is refreshed with the current card; moving that one is a deliberate choice.
    await page.waitForSelector(`${card} >> text=Gasket by psql`);
    expect(await page.getAttribute(card, 'data-status')).toBe('todo');
    await page.click(`${card} summary`);
    await page.click(`${card} [data-move-to="blocked"]`);
    await page.waitForFunction(
      () => document.getElementById('board-notice')?.textContent === 'Moved “Gasket by psql” to Blocked.',
    );
    expect(await task(id)).toMatchObject({ status: 'blocked', title: 'Gasket by psql' });
  });

  it('a project edit: the open form shows the change, a stale save is refused, Overwrite and Reload work', {
    timeout: 90_000,
  }, async () => {
    const page = await open('mia', PW, '/projects');
    const row = `[data-project="${ids.other}"]`;
    await page.click(`${row} summary`);
    await page.fill(`#edit-${ids.other}-description`, 'Mia’s plan');
    await psql(`update projects set name = 'Gemini by psql' where id = $1`, [ids.other]);
    // Open: the form learns of it without a save.
    await page.waitForSelector(`${row} [data-conflict]`, { timeout: 5000 });
    expect(await page.textContent(`${row} [data-conflict]`)).toMatch(/name: Gemini → Gemini by psql/);

    // Save (not Overwrite): refused, nothing changed, the form keeps what she typed.
    await page.click(`${row} form[data-watch] >> text=Save`);
    await page.waitForSelector(`${row} [data-conflict] >> text=Your save was refused`);
    expect(await page.inputValue(`#edit-${ids.other}-description`)).toBe('Mia’s plan');
    let now = (await api(inst.base, admin, 'GET', `/api/projects/${ids.other}`)).body;
    expect(now).toMatchObject({ name: 'Gemini by psql', description: '' });

    await page.click(`${row} >> text=Overwrite with mine`);
    await page.waitForSelector('#projects-notice');
    now = (await api(inst.base, admin, 'GET', `/api/projects/${ids.other}`)).body;
    expect(now).toMatchObject({ name: 'Gemini', description: 'Mia’s plan' });

    // Reload: the form again, with the current values, open.
    await page.click(`${row} summary`);
    await api(inst.base, admin, 'PATCH', `/api/projects/${ids.other}`, { name: 'Gemini 2' });
    await page.waitForSelector(`${row} [data-conflict]`, { timeout: 5000 });
    expect(await page.textContent(`${row} [data-conflict]`)).toContain('Administrator changed this project');
    await page.click(`${row} [data-reload]`);
    await page.waitForFunction(
      (id) =>
        (document.getElementById(`edit-${id}-name`) as HTMLInputElement | null)?.value === 'Gemini 2' &&
        !document.querySelector('[data-conflict]'),
      ids.other,
    );
    expect(await page.getAttribute(`#project-edit-${ids.other}`, 'open')).not.toBeNull();
    expect(unexpected()).toEqual([]);
  });

  it('a user edit: a role change on a stale row is refused with who changed what; Overwrite applies it', {
    timeout: 90_000,
  }, async () => {
    const page = await open(ADMIN.username, ADMIN.password, '/users');
    await psql(`update users set display_name = 'Ursa Major' where id = $1`, [ids.ursa]);
    const row = '[data-user="ursa"]';
    await page.selectOption(`#role-${ids.ursa}`, 'manager');
    await page.click(`#role-${ids.ursa} ~ button`);
    await page.waitForSelector(`${row} [data-conflict]`);
    const text = (await page.textContent(`${row} [data-conflict]`)) ?? '';
    expect(text).toMatch(/display name: Ursa U\. → Ursa Major/);
    expect(text).toContain('Your save was refused');
    let ursa = (await api(inst.base, admin, 'GET', `/api/users/${ids.ursa}`)).body;
    expect(ursa.role).toBe('user');

    await page.click(`${row} >> text=Overwrite with mine`);
    await page.waitForSelector('#users >> text=ursa is now manager');
    ursa = (await api(inst.base, admin, 'GET', `/api/users/${ids.ursa}`)).body;
    expect(ursa).toMatchObject({ role: 'manager', display_name: 'Ursa Major' });
    expect(unexpected()).toEqual([]);
  });
});
