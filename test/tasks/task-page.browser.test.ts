import { type ApiProject, expect, test } from '../support/fixtures.ts';

const DESCRIPTION = 'Call the printer first.\n<script>document.title = "owned"</script> & check the proofs';

/** Each task and each project has a page of its own: shareable, live, and a 404 page for others. */
test.override({
  cast: {
    mia: { role: 'manager', display_name: 'Mia Manager' },
    max: { role: 'manager', display_name: 'Max Other' },
    ute: { role: 'user', display_name: 'Ute Ufer' },
    udo: { role: 'user', display_name: 'Anton Udo' },
  },
});

test.describe('task and project pages in Chromium', () => {
  const ids: Record<string, number> = {};
  test.beforeAll(async ({ portal, people }) => {
    for (const username of ['mia', 'max', 'ute', 'udo']) ids[username] = people.get(username).id;
    const project = async (name: string, owner: number) =>
      (await portal.api<ApiProject>('POST', '/api/projects', { name, owner_id: owner })).body.id;
    // Two projects of the same name: the pickers tell them apart by owner.
    ids.mine = await project('Brochure', ids.mia!);
    ids.theirs = await project('Brochure', ids.max!);
  });

  test('a task created with a description gets a page with its details and live history', {
    timeout: 90_000,
  }, async ({ pageAs, portal }) => {
    const page = await pageAs('mia', { path: '/tasks' });
    await page.waitForSelector('[data-connection="live"]');
    await page.click('#task-new');
    await page.waitForSelector('#task-dialog[open] #tf-description');
    // The limit is stated on the field.
    expect(await page.getAttribute('#tf-description', 'maxlength')).toBe('10000');
    expect(await page.textContent('#tf-description-limit')).toBe('Up to 10,000 characters.');
    // Projects in the picker carry their owner; people are sorted by the name shown, username beside.
    expect(await page.locator('#tf-project_id option').allTextContents()).toEqual(['Brochure — Mia Manager']);
    const people = await page.locator('#tf-assignee_id option').allTextContents();
    expect(people.indexOf('Anton Udo (udo)')).toBeLessThan(people.indexOf('Ute Ufer (ute)'));
    await page.fill('#tf-title', 'Print the brochure');
    await page.fill('#tf-description', DESCRIPTION);
    await page.selectOption('#tf-assignee_id', String(ids.ute));
    await page.click('#task-dialog button[type=submit]');
    await page.waitForSelector('#task-dialog:not([open])', { state: 'attached' });
    const link = page.locator('[data-task-list] a[data-task-link]', { hasText: 'Print the brochure' });
    await link.click();
    await page.waitForURL(/\/tasks\/\d+$/);
    ids.task = Number(new URL(page.url()).pathname.split('/').pop());
    await page.waitForSelector('[data-connection="live"]');
    expect(await page.textContent('h1[data-title]')).toBe('Print the brochure');
    // Plain text, shown as typed: the markup is text, nothing ran, the line break is kept.
    expect(await page.textContent('[data-description]')).toBe(DESCRIPTION);
    expect(await page.locator('[data-description] script').count()).toBe(0);
    expect(await page.title()).not.toBe('owned');
    expect(await page.textContent('[data-fact="project"]')).toBe('Brochure — Mia Manager');
    expect(await page.textContent('[data-fact="assignee"]')).toBe('Ute Ufer');
    expect(await page.textContent('[data-history] li [data-who]')).toBe('Mia Manager');
    expect(await page.textContent('[data-history] li:first-child')).toContain('created');

    // Someone else reassigns and blocks it: the page follows, with who did what, old → new.
    await portal.api('PATCH', `/api/tasks/${ids.task}`, {
      assignee_id: ids.udo,
      status: 'blocked',
    });
    await page.waitForFunction(
      () => document.querySelector('[data-fact="assignee"]')?.textContent === 'Anton Udo',
      undefined,
      {
        timeout: 5000,
      },
    );
    const latest = page.locator('[data-history] li').first();
    expect(await latest.locator('[data-who]').textContent()).toBe('Administrator'); // the admin's display name
    expect(await latest.locator('[data-field="assignee_id"]').textContent()).toBe(
      'assignee: Ute Ufer → Anton Udo',
    );
    expect(await latest.locator('[data-field="status"]').textContent()).toBe('status: To do → Blocked');
    expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
  });

  test('is a 404 page with a way back for whoever may not see the task', { timeout: 60_000 }, async ({
    pageAs,
    portal,
  }) => {
    // Ute had it, but it is Udo's now; Max owns another project.
    for (const who of ['ute', 'max']) {
      const page = await pageAs(who, { path: '/dashboard', allow: /404/ });
      const res = await page.goto(`${portal.base}/tasks/${ids.task}`);
      expect(res?.status()).toBe(404);
      expect(await page.textContent('h1')).toBe('Task not found');
      expect(await page.getAttribute('[data-missing] a', 'href')).toBe('/tasks');
    }
    const page = await pageAs('udo', { path: `/tasks/${ids.task}`, allow: /404/ });
    expect(await page.textContent('h1[data-title]')).toBe('Print the brochure');
    const none = await page.goto(`${portal.base}/tasks/99999`);
    expect(none?.status()).toBe(404);
  });

  test('a project page shows the owner, the progress and its tasks, at phone width in dark mode', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const page = await pageAs('mia', {
      path: '/projects',
      device: { viewport: { width: 390, height: 844 }, colorScheme: 'dark' },
      allow: /404/,
    });
    await page.click(`a[href="/projects/${ids.mine}"]`);
    await page.waitForURL(`${portal.base}/projects/${ids.mine}`);
    await page.waitForSelector('[data-connection="live"]');
    expect(await page.textContent('[data-fact="owner"]')).toBe('Mia Manager');
    expect(await page.textContent('[data-fact="progress"]')).toContain('0 of 1 done (0%)');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await portal.api('PATCH', `/api/tasks/${ids.task}`, { status: 'done' });
    await page.waitForFunction(
      () => document.querySelector('[data-fact="progress"]')?.textContent?.includes('1 of 1 done (100%)'),
      undefined,
      { timeout: 5000 },
    );
    await page.click(`[data-project-tasks] a[href="/tasks/${ids.task}"]`);
    await page.waitForURL(`${portal.base}/tasks/${ids.task}`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const other = await page.goto(`${portal.base}/projects/${ids.theirs}`);
    expect(other?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('Project not found');
  });

  test('raised no console errors and made no request outside the portal', ({ problems }) => {
    // The 404 pages above are answered on purpose; the browser logs each as a failed load.
    expect(problems.filter((p) => !p.includes('404'))).toEqual([]);
  });
});
