import pg from 'pg';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice, signInWithForm } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';

/** The tasks page: search, filter, sort, pages, board, status changes, live — in a real browser. */
describe('tasks page in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  let sql: pg.Client;
  const problems: string[] = [];
  let firstTask: number;
  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    const admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const user = await api(inst.base, admin, 'POST', '/api/users', {
      username: 'tia',
      password: PW,
      role: 'user',
    });
    await api(inst.base, admin, 'POST', '/api/users', { username: 'tom', password: PW, role: 'user' });
    const project = await api(inst.base, admin, 'POST', '/api/projects', { name: 'Board' });
    for (let i = 0; i < 25; i++) {
      const t = await api(inst.base, admin, 'POST', '/api/tasks', {
        project_id: project.body.id,
        title: i < 3 ? `Alpha ${i}` : `Task ${i}`,
        assignee_id: user.body.id,
        status: i % 5 === 0 ? 'blocked' : 'todo',
      });
      firstTask = t.body.id; // the newest: first on the first page
    }
    sql = new pg.Client({ connectionString: cluster.databaseUrl });
    await sql.connect();
  }, 90_000);
  afterAll(async () => {
    await sql?.end();
    await browser?.close();
    await cluster?.stop();
  });

  async function open(username: string): Promise<Page> {
    const page = await (await openDevice(browser, inst.base, problems)).newPage();
    await signInWithForm(page, inst.base, username, PW, '/tasks');
    await page.waitForSelector('[data-connection="live"]');
    return page;
  }
  const summary = (page: Page) => page.textContent('#task-results > p[role=status]');

  it('pages, searches and filters without reloading', { timeout: 60_000 }, async () => {
    const page = await open('tia');
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
    expect(await (await open('tom')).textContent('#task-results > p')).toBe('No tasks match.');
  });

  it('moves a task along from the list, and follows changes made elsewhere', {
    timeout: 60_000,
  }, async () => {
    const page = await open('tia');
    const other = await open('tia');
    await page.selectOption(`#status-${firstTask}`, 'done');
    await page.waitForSelector(`[data-column="done"] li[data-card="${firstTask}"]`);
    // The other tab shows it too, without a reload, through the realtime socket.
    await other.waitForSelector(`[data-column="done"] li[data-card="${firstTask}"]`, { timeout: 3000 });
    await sql.query(`update tasks set status = 'in_progress' where id = $1`, [firstTask]);
    await page.waitForSelector(`[data-column="in_progress"] li[data-card="${firstTask}"]`, { timeout: 3000 });
  });

  it('raised no console errors and made no request outside the portal', () => {
    expect(problems).toEqual([]);
  });
});
