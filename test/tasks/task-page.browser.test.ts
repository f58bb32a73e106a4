import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice, signInWithForm } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';
const DESCRIPTION = 'Call the printer first.\n<script>document.title = "owned"</script> & check the proofs';

/** Each task and each project has a page of its own: shareable, live, and a 404 page for others. */
describe('task and project pages in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  let admin: string;
  const problems: string[] = [];
  const ids: Record<string, number> = {};
  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    const make = async (username: string, role: string, display_name?: string) =>
      (await api(inst.base, admin, 'POST', '/api/users', { username, password: PW, role, display_name })).body
        .id as number;
    ids.mia = await make('mia', 'manager', 'Mia Manager');
    ids.max = await make('max', 'manager', 'Max Other');
    ids.ute = await make('ute', 'user', 'Ute Ufer');
    ids.udo = await make('udo', 'user', 'Anton Udo');
    const project = async (name: string, owner: number) =>
      (await api(inst.base, admin, 'POST', '/api/projects', { name, owner_id: owner })).body.id as number;
    // Two projects of the same name: the pickers tell them apart by owner.
    ids.mine = await project('Brochure', ids.mia);
    ids.theirs = await project('Brochure', ids.max);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  async function open(username: string, path: string, options: BrowserContextOptions = {}): Promise<Page> {
    const page = await (await openDevice(browser, inst.base, problems, options)).newPage();
    await signInWithForm(page, inst.base, username, username === ADMIN.username ? ADMIN.password : PW, path);
    return page;
  }

  it('a task created with a description gets a page with its details and live history', {
    timeout: 90_000,
  }, async () => {
    const page = await open('mia', '/tasks');
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
    await api(inst.base, admin, 'PATCH', `/api/tasks/${ids.task}`, {
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

  it('is a 404 page with a way back for whoever may not see the task', { timeout: 60_000 }, async () => {
    // Ute had it, but it is Udo's now; Max owns another project.
    for (const who of ['ute', 'max']) {
      const page = await open(who, '/dashboard');
      const res = await page.goto(`${inst.base}/tasks/${ids.task}`);
      expect(res?.status()).toBe(404);
      expect(await page.textContent('h1')).toBe('Task not found');
      expect(await page.getAttribute('[data-missing] a', 'href')).toBe('/tasks');
    }
    const page = await open('udo', `/tasks/${ids.task}`);
    expect(await page.textContent('h1[data-title]')).toBe('Print the brochure');
    const none = await page.goto(`${inst.base}/tasks/99999`);
    expect(none?.status()).toBe(404);
  });

  it('a project page shows the owner, the progress and its tasks, at phone width in dark mode', {
    timeout: 60_000,
  }, async () => {
    const page = await open('mia', '/projects', {
      viewport: { width: 390, height: 844 },
      colorScheme: 'dark',
    });
    await page.click(`a[href="/projects/${ids.mine}"]`);
    await page.waitForURL(`${inst.base}/projects/${ids.mine}`);
    await page.waitForSelector('[data-connection="live"]');
    expect(await page.textContent('[data-fact="owner"]')).toBe('Mia Manager');
    expect(await page.textContent('[data-fact="progress"]')).toContain('0 of 1 done (0%)');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await api(inst.base, admin, 'PATCH', `/api/tasks/${ids.task}`, { status: 'done' });
    await page.waitForFunction(
      () => document.querySelector('[data-fact="progress"]')?.textContent?.includes('1 of 1 done (100%)'),
      undefined,
      { timeout: 5000 },
    );
    await page.click(`[data-project-tasks] a[href="/tasks/${ids.task}"]`);
    await page.waitForURL(`${inst.base}/tasks/${ids.task}`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    const other = await page.goto(`${inst.base}/projects/${ids.theirs}`);
    expect(other?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('Project not found');
  });

  it('raised no console errors and made no request outside the portal', () => {
    // The 404 pages above are answered on purpose; the browser logs each as a failed load.
    expect(problems.filter((p) => !p.includes('404'))).toEqual([]);
  });
});
