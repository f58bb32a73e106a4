import { expect, test } from '../support/fixtures.ts';

test.override({ cast: { otto: 'user' } });

/** The account page: my sign-ins on every device, and ending them, in a real browser. */
test.describe('account page in Chromium', () => {
  test('lists both devices and signs the other one out, closing its live dashboard', {
    timeout: 60_000,
  }, async ({ pageAs, portal, problems }) => {
    const signInOn = async (userAgent?: string) => {
      const page = await pageAs('otto', userAgent ? { device: { userAgent } } : {});
      await page.waitForSelector('[data-connection="live"]');
      return page;
    };
    const mine = await signInOn('Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36');
    const theirs = await signInOn(
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Mobile/15E148 Safari/604.1',
    );

    await mine.goto(`${portal.base}/account`);
    const rows = mine.locator('tr[data-session]');
    expect(await rows.count()).toBe(2);
    expect(await mine.textContent('tbody')).toContain('(this device)');
    expect(await mine.textContent('tbody')).toContain('Safari on iOS');

    await mine.getByRole('button', { name: /Sign out Safari on iOS/ }).click();
    // In place (htmx), without leaving the page.
    await mine.waitForFunction(() => document.querySelectorAll('tr[data-session]').length === 1);
    expect(mine.url()).toBe(`${portal.base}/account`);
    // The phone's open dashboard is told at once and goes to the sign-in page.
    await theirs.waitForURL(/\/login/, { timeout: 5000 });
    // And the laptop is still signed in.
    await mine.goto(`${portal.base}/dashboard`);
    await mine.waitForSelector('[data-connection="live"]');

    const third = await signInOn();
    await mine.goto(`${portal.base}/account`);
    expect(await rows.count()).toBe(2);
    await mine.getByRole('button', { name: 'Sign out everywhere else' }).click();
    await mine.waitForFunction(() => document.querySelectorAll('tr[data-session]').length === 1);
    for (const page of [mine, theirs, third]) await page.context().close();
    // Signed out under their feet, no device logged an error or reached outside the portal.
    expect(problems).toEqual([]);
  });
});
