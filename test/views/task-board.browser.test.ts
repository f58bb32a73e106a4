import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice, signInWithForm } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';
const STATUSES = ['todo', 'in_progress', 'blocked', 'done'] as const;

/** The task board: the whole filtered scope by status, in a real browser. */
describe('task board in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  const problems: string[] = [];
  /** How many tasks of each status are in scope: 130 in all, 70 of them "to do". */
  const made: Record<(typeof STATUSES)[number], number> = {
    todo: 70,
    in_progress: 25,
    blocked: 10,
    done: 25,
  };
  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    const admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const bea = await api(inst.base, admin, 'POST', '/api/users', {
      username: 'bea',
      password: PW,
      role: 'user',
    });
    const project = await api(inst.base, admin, 'POST', '/api/projects', { name: 'Big board' });
    let n = 0;
    for (const status of STATUSES) {
      for (let i = 0; i < made[status]; i++, n++) {
        const res = await api(inst.base, admin, 'POST', '/api/tasks', {
          project_id: project.body.id,
          title: `${n % 10 === 0 ? 'Alpha' : 'Card'} ${n}`,
          assignee_id: bea.body.id,
          status,
        });
        expect(res.status).toBe(201);
      }
    }
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  async function open(username: string, password: string, path = '/tasks'): Promise<Page> {
    const page = await (await openDevice(browser, inst.base, problems)).newPage();
    await signInWithForm(page, inst.base, username, password, path);
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

  it('counts every task in scope by status, not just the page of the list', { timeout: 60_000 }, async () => {
    const page = await open('bea', PW);
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

  it('shows the rest of a column on a page of its own without JavaScript', { timeout: 30_000 }, async () => {
    const context = await openDevice(browser, inst.base, problems, { javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${inst.base}/login?next=%2Ftasks`);
    await page.fill('#username', 'bea');
    await page.fill('#password', PW);
    await page.click('button[type=submit]');
    await page.waitForURL(`${inst.base}/tasks`);
    await page.click('[data-column="todo"] li[data-more] a');
    await page.waitForURL(/\/tasks\/board\/todo\?/);
    expect(await page.textContent('[data-column="todo"] > p')).toBe('Showing 51–70 of 70');
    expect(await cards(page, 'todo')).toBe(20);
    await context.close();
  });

  it('raised no console errors and made no request outside the portal', () => {
    expect(problems).toEqual([]);
  });
});
