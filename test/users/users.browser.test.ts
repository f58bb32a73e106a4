import type { Page } from 'playwright-core';
import { expect, test } from '../support/fixtures.ts';
import { signIn } from '../support/live-client.ts';

test.override({ cast: {} });

/** The admin's user management, through the page, in a real browser. */
test.describe('users page in Chromium', () => {
  let page: Page;
  test.beforeEach(async ({ pageAs }) => {
    page = await pageAs('admin', { path: '/users' });
  });

  test('creates a user, showing validation errors inline first', { timeout: 60_000 }, async () => {
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

  test('explains why a user who owns projects cannot be deleted, then deactivates and resets them', {
    timeout: 60_000,
  }, async ({ portal }) => {
    const nora = await signIn(portal.base, 'nora', 'a-long-user-password');
    await portal.api('POST', '/api/projects', { name: "Nora's" }, nora);
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
    expect((await portal.api('GET', '/api/me', undefined, nora)).status).toBe(401);
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
        await fetch(`${portal.base}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'nora', password: 'a-brand-new-password' }),
        })
      ).status,
    ).toBe(200);
  });

  test('is not there for other roles, and raised no console errors or requests outside the portal', async ({
    pageAs,
    portal,
    problems,
  }) => {
    const nobody = await pageAs(null);
    await nobody.goto(`${portal.base}/users`);
    expect(new URL(nobody.url()).pathname).toBe('/login');
    expect(problems).toEqual([]);
  });
});
