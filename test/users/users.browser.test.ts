import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice, signInWithForm } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

/** The admin's user management, through the page, in a real browser. */
describe('users page in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    page = await (await openDevice(browser, inst.base, problems)).newPage();
    await signInWithForm(page, inst.base, ADMIN.username, ADMIN.password, '/users');
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  it('creates a user, showing validation errors inline first', { timeout: 60_000 }, async () => {
    await page.fill('#new-username', 'bad name');
    await page.fill('#new-password', 'short');
    await page.click('text=Create user');
    await page.waitForSelector('#new-username-error');
    expect(await page.textContent('#new-username-error')).toMatch(/Username/);
    expect(await page.textContent('#new-password-error')).toMatch(/at least 12/);
    expect(await page.getAttribute('#new-username', 'aria-invalid')).toBe('true');
    await page.fill('#new-username', 'nora');
    await page.fill('#new-display_name', 'Nora N.');
    await page.selectOption('#new-role', 'manager');
    await page.fill('#new-password', 'a-long-user-password');
    await page.click('text=Create user');
    await page.waitForSelector('tr[data-user="nora"]');
    expect(await page.textContent('tr[data-user="nora"]')).toContain('active');
    expect(await page.inputValue('tr[data-user="nora"] select')).toBe('manager');
    // The same username again: refused inline.
    await page.fill('#new-username', 'NORA');
    await page.fill('#new-password', 'another-long-password');
    await page.click('text=Create user');
    await page.waitForSelector('#new-username-error');
    expect(await page.textContent('#new-username-error')).toMatch(/already taken/);
  });

  it('explains why a user who owns projects cannot be deleted, then deactivates and resets them', {
    timeout: 60_000,
  }, async () => {
    const nora = await signIn(inst.base, 'nora', 'a-long-user-password');
    await api(inst.base, nora, 'POST', '/api/projects', { name: "Nora's" });
    // Delete asks first; for a user who owns projects it says why not, with Close only.
    await page.click('tr[data-user="nora"] >> text=Delete');
    await page.waitForSelector('#confirm-dialog[open] #confirm-dialog-body p');
    expect(await page.textContent('#confirm-dialog-body')).toMatch(/owns 1 project/);
    expect(await page.isVisible('#confirm-dialog [data-confirm-yes]')).toBe(false);
    await page.click('#confirm-dialog >> text=Close');

    await page.click('tr[data-user="nora"] >> text=Deactivate');
    await page.waitForFunction(() =>
      document.querySelector('tr[data-user="nora"]')?.textContent?.includes('deactivated'),
    );
    expect((await api(inst.base, nora, 'GET', '/api/me')).status).toBe(401);
    await page.click('tr[data-user="nora"] >> text=Reactivate');
    await page.waitForFunction(
      () => !document.querySelector('tr[data-user="nora"]')?.textContent?.includes('deactivated'),
    );

    await page.fill('tr[data-user="nora"] input[type=password]', 'a-brand-new-password');
    await page.click('tr[data-user="nora"] >> text=Reset password');
    await page.waitForFunction(() =>
      document.querySelector('.notice')?.textContent?.startsWith('New password set'),
    );
    expect(
      (
        await fetch(`${inst.base}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'nora', password: 'a-brand-new-password' }),
        })
      ).status,
    ).toBe(200);
  });

  it('is not there for other roles, and raised no console errors or requests outside the portal', async () => {
    const nobody = await (await openDevice(browser, inst.base, problems)).newPage();
    await nobody.goto(`${inst.base}/users`);
    expect(new URL(nobody.url()).pathname).toBe('/login');
    expect(problems).toEqual([]);
  });
});
