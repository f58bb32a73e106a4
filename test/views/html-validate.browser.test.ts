import type { BrowserContext, Page } from 'playwright-core';
import { openDevice } from '../support/browser.ts';
import { expect, test } from '../support/fixtures.ts';
import { validateHtml } from '../support/html-validate.ts';

test.override({
  cast: { mia: 'manager', uma: 'user' },
  plan: {
    project: { name: 'Valid', description: 'HTML' },
    by: 'mia',
    tasks: (['todo', 'in_progress', 'blocked', 'done'] as const).map((status, i) => ({
      title: `Check markup ${i} & <more>`,
      assignee: 'uma',
      status,
      due_date: '2001-01-01',
    })),
  },
});

/**
 * html-validate (the repository's .htmlvalidate.json) over every page, for every role: the HTML
 * as served, and the live document after its scripts ran (dialogs open, errors shown).
 */
test.describe('HTML validity (html-validate) in Chromium', () => {
  let base: string;
  let taskId: number;
  test.beforeAll(({ portal, world }) => {
    base = portal.base;
    taskId = world.tasks.at(-1)!.id;
  });

  test('flags a page that is broken on purpose (the check can fail)', async () => {
    const found = await validateHtml(
      '<html><body><form><input name="q"><select name="s" id="s"></select></form></body></html>',
    );
    const rules = found.map((line) => line.split(' ')[1]);
    expect(rules).toEqual(
      expect.arrayContaining([
        'missing-doctype:',
        'no-implicit-input-type:',
        'wcag/h32:',
        'input-missing-label:',
      ]),
    );
  });

  test('reports a CSP violation on a portal page (the CSP check can fail)', async ({ browser, portal }) => {
    const seen: string[] = [];
    const context = await openDevice(browser, portal.base, seen);
    const page = await context.newPage();
    await page.goto(`${portal.base}/login`);
    // What the policy forbids: an inline handler, an inline style attribute.
    await page.evaluate(() => {
      const b = document.createElement('button');
      b.setAttribute('onclick', 'void 0');
      b.setAttribute('style', 'color: red');
      document.body.append(b);
      b.click();
    });
    await page.waitForTimeout(200);
    await context.close();
    const csp = seen.filter((p) => p.startsWith('csp: ')).join('\n');
    expect(csp).toMatch(/csp: script-src-attr blocked inline/);
    expect(csp).toMatch(/csp: style-src-attr blocked inline/);
  });

  /** The page as served (with the context's cookie) and as the browser holds it after its scripts ran. */
  async function check(context: BrowserContext, page: Page, path: string, found: Record<string, string[]>) {
    const served = await context.request.get(`${base}${path}`, { headers: { accept: 'text/html' } });
    const type = served.headers()['content-type'] ?? '';
    if (!type.startsWith('text/html')) {
      found[`${path} (served as ${type}, status ${served.status()})`] = [];
      return;
    }
    const errors = await validateHtml(await served.text(), 'served');
    if (errors.length) found[`${path} (served)`] = errors;
    await page.goto(`${base}${path}`);
    await page.waitForLoadState('networkidle').catch(() => {});
    await live(page, path, found);
  }
  async function live(page: Page, label: string, found: Record<string, string[]>) {
    const errors = await validateHtml(await page.content(), 'dom');
    if (errors.length) found[`${label} (live DOM)`] = errors;
  }
  async function fragment(
    context: BrowserContext,
    method: 'GET' | 'POST',
    path: string,
    found: Record<string, string[]>,
    form?: Record<string, string>,
  ) {
    const headers = { 'hx-request': 'true', origin: base };
    const res =
      method === 'GET'
        ? await context.request.get(`${base}${path}`, { headers })
        : await context.request.post(`${base}${path}`, { headers, form: form ?? {} });
    expect(res.status(), `${method} ${path}`).toBe(200);
    const errors = await validateHtml(await res.text(), 'fragment');
    if (errors.length) found[`${method} ${path} (htmx fragment)`] = errors;
  }

  test('finds nothing on the pages anyone can reach', { timeout: 60_000 }, async ({ pageAs }) => {
    const page = await pageAs(null);
    const context = page.context();
    const found: Record<string, string[]> = {};
    for (const path of [
      '/login',
      '/login?error=invalid&username=someone',
      '/login?error=throttled&retry=30',
      '/api/docs',
    ])
      await check(context, page, path, found);
    await context.close();
    expect(found).toEqual({});
  });

  test.for(['admin', 'manager', 'user'] as const)(
    'finds nothing on any page of the %s',
    {
      timeout: 120_000,
    },
    async (role, { pageAs }) => {
      const page = await pageAs(role, { device: { acceptDialogs: true } });
      const context = page.context();
      const found: Record<string, string[]> = {};
      const pages = [
        '/dashboard',
        '/tasks',
        '/tasks?q=markup&sort=title',
        '/tasks/board/done',
        '/projects',
        '/account',
        '/api/docs',
      ];
      if (role !== 'user') pages.push('/tasks/new');
      if (role === 'admin') pages.push('/users', '/audit');
      pages.push(`/tasks/${taskId}/edit`);
      for (const path of pages) await check(context, page, path, found);

      // The fragments htmx swaps in: the task list, the task dialogs, the activity rows, the forms with errors.
      await fragment(context, 'GET', '/tasks?status=done', found);
      await fragment(context, 'GET', '/tasks/board/todo?q=markup', found);
      await fragment(context, 'GET', `/tasks/${taskId}/edit`, found);
      await fragment(context, 'POST', `/tasks/${taskId}/edit`, found, { status: 'nonsense' });
      if (role !== 'user') {
        await fragment(context, 'GET', '/tasks/new', found);
        await fragment(context, 'POST', '/tasks/new', found, { title: '' });
        await fragment(context, 'POST', '/projects/new', found, { name: '' });
      }
      if (role === 'admin') {
        await fragment(context, 'GET', '/audit/rows', found);
        await fragment(context, 'POST', '/users/new', found, { username: '', password: 'short' });
      }

      // The task dialog, open in the page, with an inline error in it.
      await page.goto(`${base}/tasks`);
      await page.waitForSelector('[data-connection="live"]');
      if (role !== 'user') {
        await page.click('#task-new');
        await page.waitForSelector('dialog#task-dialog[open] form');
        await page.click('#task-dialog >> text=Create task');
        await page.waitForSelector('#tf-title-error');
        await live(page, '/tasks (new task dialog, error shown)', found);
        await page.keyboard.press('Escape');
      }
      await page.click(`#task-edit-${taskId}`);
      await page.waitForSelector('dialog#task-dialog[open] form');
      await live(page, '/tasks (edit dialog)', found);
      await context.close();
      expect(found).toEqual({});
    },
  );

  test('finds nothing on the error pages', { timeout: 30_000 }, async ({ pageAs }) => {
    // These pages answer 404 or 403 on purpose, which Chromium reports on the console; anything else counts.
    const page = await pageAs('uma', { allow: /the server responded with a status of 40[34]/ });
    const context = page.context();
    const found: Record<string, string[]> = {};
    // Unknown pages, and admin pages a user may not see: HTML only once the portal answers HTML there.
    for (const path of ['/no-such-page', '/users', '/audit', '/tasks/999999/edit']) {
      await check(context, page, path, found);
    }
    await context.close();
    const notHtml = Object.entries(found).filter(([, errors]) => errors.length === 0);
    const invalid = Object.fromEntries(Object.entries(found).filter(([, errors]) => errors.length > 0));
    if (notHtml.length) console.info(`error pages not (yet) HTML: ${notHtml.map(([k]) => k).join('; ')}`);
    expect(invalid).toEqual({});
  });

  test('raised no console errors, no CSP violations, and made no request outside the portal', ({
    problems,
  }) => {
    expect(problems).toEqual([]);
  });
});
