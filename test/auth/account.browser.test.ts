import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice, signInWithForm } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';

/** The account page: my sign-ins on every device, and ending them, in a real browser. */
describe('account page in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  const problems: string[] = [];
  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    const admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    await api(inst.base, admin, 'POST', '/api/users', { username: 'otto', password: PW, role: 'user' });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  async function signInOn(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    await signInWithForm(page, inst.base, 'otto', PW);
    await page.waitForSelector('[data-connection="live"]');
    return page;
  }

  it('lists both devices and signs the other one out, closing its live dashboard', {
    timeout: 60_000,
  }, async () => {
    const laptop = await openDevice(browser, inst.base, problems, {
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36',
    });
    const phone = await openDevice(browser, inst.base, problems, {
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile/15E148 Safari/604.1',
    });
    const mine = await signInOn(laptop);
    const theirs = await signInOn(phone);

    await mine.goto(`${inst.base}/account`);
    const rows = mine.locator('tr[data-session]');
    expect(await rows.count()).toBe(2);
    expect(await mine.textContent('tbody')).toContain('(this device)');
    expect(await mine.textContent('tbody')).toContain('Safari on iOS');

    await mine.getByRole('button', { name: /Sign out Safari on iOS/ }).click();
    // In place (htmx), without leaving the page.
    await mine.waitForFunction(() => document.querySelectorAll('tr[data-session]').length === 1);
    expect(mine.url()).toBe(`${inst.base}/account`);
    // The phone's open dashboard is told at once and goes to the sign-in page.
    await theirs.waitForURL(/\/login/, { timeout: 5000 });
    // And the laptop is still signed in.
    await mine.goto(`${inst.base}/dashboard`);
    await mine.waitForSelector('[data-connection="live"]');

    const third = await openDevice(browser, inst.base, problems);
    await signInOn(third);
    await mine.goto(`${inst.base}/account`);
    expect(await rows.count()).toBe(2);
    await mine.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await mine.waitForFunction(() => document.querySelectorAll('tr[data-session]').length === 1);
    for (const context of [laptop, phone, third]) await context.close();
    // Signed out under their feet, no device logged an error or reached outside the portal.
    expect(problems).toEqual([]);
  });
});
