import {
  type ApiError,
  type ApiList,
  type ApiProject,
  type ApiTask,
  type ApiUser,
  expect,
  test,
} from '../support/fixtures.ts';

test.override({ cast: { maren: 'manager', uwe: 'user' } });

/** The admin's activity feed stays live; nobody else has one. */
test.describe('audit feed in Chromium', () => {
  test('shows new changes as they happen, with who made them, including writes from outside', {
    timeout: 60_000,
  }, async ({ pageAs, people, portal }) => {
    const page = await pageAs('admin', { path: '/audit' });
    await page.waitForSelector('[data-connection="live"]');
    expect(await page.locator('nav a[href="/audit"]').count()).toBe(1);
    const manager = await people.token('maren');
    const project = await portal.apiAs<ApiProject>(manager, 'POST', '/api/projects', {
      name: 'Audited live',
    });
    await page.waitForFunction(
      (id) =>
        document.querySelector('[data-audit] tbody tr [data-what] a')?.getAttribute('href') ===
        `/projects/${id}`,
      project.body.id,
      { timeout: 3000 },
    );
    // Readable: the project by name (a link to its page), the person by name.
    expect(await page.textContent('[data-audit] tbody tr [data-what]')).toBe('project Audited live');
    expect(await page.textContent('[data-audit] tbody tr [data-who]')).toBe('maren');
    expect(await page.textContent('[data-audit] tbody tr [data-how]')).toBe('created');

    await portal.sql.query(`update projects set name = 'Renamed by psql' where id = $1`, [project.body.id]);
    await page.waitForFunction(
      () =>
        document.querySelector('[data-audit] tbody tr [data-who]')?.textContent ===
        'someone outside the portal (SQL)',
      undefined,
      { timeout: 3000 },
    );
    expect(await page.textContent('[data-audit] tbody tr [data-how]')).toBe(
      'name: Audited live → Renamed by psql',
    );
  });

  test('answers "who changed task X?" with filters in the URL, and pages through the whole log', {
    timeout: 90_000,
  }, async ({ pageAs, people, portal }) => {
    const manager = await people.token('maren');
    const project = await portal.apiAs<ApiProject>(manager, 'POST', '/api/projects', { name: 'Busy' });
    const users = (await portal.api<ApiList<ApiUser>>('GET', '/api/users?q=uwe')).body.items;
    const uwe = users[0]!.id;
    let last = 0;
    for (let i = 0; i < 60; i++) {
      last = (
        await portal.apiAs<ApiTask>(manager, 'POST', '/api/tasks', {
          project_id: project.body.id,
          title: `Busy ${i}`,
        })
      ).body.id;
    }
    await portal.apiAs(manager, 'PATCH', `/api/tasks/${last}`, { assignee_id: uwe, status: 'blocked' });
    const page = await pageAs('admin', { path: '/audit' });
    await page.waitForSelector('[data-connection="live"]');
    expect(await page.textContent('[data-audit-summary]')).toMatch(/^Showing 1–50 of \d+ changes$/);
    const total = Number((await page.textContent('[data-audit-summary]'))!.split(' of ')[1]!.split(' ')[0]);
    expect(total).toBeGreaterThan(60);
    // Older pages, all the way to the first change.
    await page.click('nav.pager >> text=Older');
    await page.waitForFunction(() =>
      document.querySelector('[data-audit-summary]')?.textContent?.startsWith('Showing 51–'),
    );
    expect(page.url()).toBe(`${portal.base}/audit?offset=50`);

    // Which task, what kind: the filters go into the URL, and the answer reads as a sentence.
    await page.goto(`${portal.base}/audit`);
    await page.selectOption('#audit-entity', 'tasks');
    await page.fill('#audit-id', String(last));
    await page.waitForFunction(
      () => document.querySelector('[data-audit-summary]')?.textContent === 'Showing 1–2 of 2 changes',
    );
    expect(new URL(page.url()).search).toBe(`?entity=tasks&id=${last}`);
    const change = page.locator('[data-audit] tbody tr').first();
    expect(await change.locator('[data-who]').textContent()).toBe('maren');
    expect(await change.locator('[data-what]').textContent()).toBe(`task Busy 59`);
    expect(await change.locator('[data-what] a').getAttribute('href')).toBe(`/tasks/${last}`);
    expect(await change.locator('[data-field="assignee_id"]').textContent()).toBe('assignee: none → uwe');
    expect(await change.locator('[data-field="status"]').textContent()).toBe('status: To do → Blocked');
    // Who, and a time range: nothing tomorrow.
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await page.goto(
      `${portal.base}/audit?actor=${(await portal.apiAs<ApiUser>(manager, 'GET', '/api/me')).body.id}&from=${tomorrow}`,
    );
    expect(await page.textContent('[data-audit-summary]')).toBe('No changes match.');
    expect(await page.inputValue('#audit-from')).toBe(tomorrow);
    // The API takes the same range, and refuses a malformed one with the field named.
    const today = new Date().toISOString().slice(0, 10);
    const ranged = await portal.api<{ total: number }>(
      'GET',
      `/api/audit?entity=tasks&row_id=${last}&from=${today}&to=${today}`,
    );
    expect(ranged.body.total).toBe(2);
    expect((await portal.api<{ total: number }>('GET', `/api/audit?from=${tomorrow}`)).body.total).toBe(0);
    const bad = await portal.api<ApiError>('GET', '/api/audit?to=yesterday');
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(['to']);
  });

  test('fits a phone in dark mode', { timeout: 60_000 }, async ({ pageAs }) => {
    const page = await pageAs('admin', {
      path: '/audit',
      device: { viewport: { width: 390, height: 844 }, colorScheme: 'dark' },
    });
    await page.waitForSelector('[data-audit]');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  });

  test('is a 403 page with a way back for other roles, and is not in their menu', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const page = await pageAs('uwe', { path: '/dashboard', allow: /403/ });
    expect(await page.locator('nav a[href="/audit"]').count()).toBe(0);
    const res = await page.goto(`${portal.base}/audit`);
    expect(res?.status()).toBe(403);
    expect(await page.textContent('[data-forbidden]')).toMatch(/only for admins/);
  });

  test('raised no console errors (no CSP violations from htmx or Chart.js) and made no request outside the portal', ({
    problems,
  }) => {
    expect(problems.filter((p) => !p.includes('404') && !p.includes('403'))).toEqual([]);
  });
});
