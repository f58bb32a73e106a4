import { Secret, TOTP } from 'otpauth';
import { type ApiUser, expect, PASSWORD as PW, test } from '../support/fixtures.ts';

const codeAt = (secret: string, steps = 0) =>
  new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({
    timestamp: Date.now() + steps * 30_000,
  });

test.override({ cast: { mia: 'user', nils: 'user' } });

/**
 * Account security in a real browser: set up two-factor sign-in on /account (QR code, first code,
 * recovery codes), sign out, and sign in again with the code as a second step; and a user an
 * admin asked for a new password, who reaches nothing but the change-password page.
 */
test.describe('account security in Chromium', () => {
  test('enrols on /account, signs out, and signs in with the code as a second step', {
    timeout: 60_000,
  }, async ({ pageAs, portal, problems }) => {
    const page = await pageAs(null);
    await page.goto(`${portal.base}/login`);
    await page.fill('#username', 'mia');
    await page.fill('#password', PW);
    await page.click('button[type=submit]');
    await page.waitForURL(`${portal.base}/dashboard`);

    await page.goto(`${portal.base}/account`);
    // The password rules are there before anything is typed.
    expect(await page.textContent('section[aria-labelledby="change-password"]')).toContain(
      'At least 12 characters',
    );
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    await page.waitForURL(`${portal.base}/account/mfa/setup`);
    const qr = page.getByRole('img', { name: /QR code/ });
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    expect(await qr.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    const secret = ((await page.textContent('[data-secret]')) ?? '').replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    // A wrong code is shown next to the field.
    await page.fill('#verify-code', codeAt(secret) === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await expect.poll(() => page.getAttribute('#verify-code', 'aria-invalid')).toBe('true');
    await page.fill('#verify-code', codeAt(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.waitForSelector('[data-recovery-codes]');
    const codes = await page.locator('[data-recovery-codes] li').allTextContents();
    expect(codes).toHaveLength(10);
    await page.getByRole('link', { name: 'Done' }).click();
    await page.waitForURL(`${portal.base}/account`);
    expect(await page.textContent('section[aria-labelledby="two-factor"]')).toContain(
      '10 unused recovery codes',
    );

    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await page.waitForURL(/\/login/);
    await page.goto(`${portal.base}/login?next=%2Ftasks`);
    await page.fill('#username', 'mia');
    await page.fill('#password', PW);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/login\?step=code/);
    expect(await page.locator('#password').count()).toBe(0);
    // The code the app shows next (the enrolment spent this step's code).
    await page.fill('#code', codeAt(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${portal.base}/tasks`);
    await page.context().close();
    expect(problems).toEqual([]);
  });

  test('a user who must change their password only reaches the change-password page', {
    timeout: 60_000,
  }, async ({ pageAs, portal, problems }) => {
    const nils = (await portal.api<{ items: ApiUser[] }>('GET', '/api/users?q=nils')).body.items[0]!;
    expect((await portal.api('PATCH', `/api/users/${nils.id}`, { must_change_password: true })).status).toBe(
      200,
    );
    const page = await pageAs(null);
    await page.goto(`${portal.base}/login`);
    await page.fill('#username', 'nils');
    await page.fill('#password', PW);
    await page.click('button[type=submit]');
    await page.waitForURL(`${portal.base}/account/password`);
    expect(await page.textContent('main')).toContain('An admin asked you to choose a new password');
    await page.goto(`${portal.base}/tasks`);
    await page.waitForURL(`${portal.base}/account/password`);

    await page.fill('#current_password', 'not my password');
    await page.fill('#new_password', 'nils has a new one');
    await page.fill('#confirm_password', 'nils has a new one');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect.poll(() => page.getAttribute('#current_password', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#current_password-error')).toContain('is wrong');

    await page.fill('#current_password', PW);
    await page.fill('#new_password', 'a fresh passphrase 7');
    await page.fill('#confirm_password', 'a fresh passphrase 7');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(`${portal.base}/dashboard`);
    await page.waitForSelector('[data-connection="live"]');
    await page.context().close();
    expect(problems).toEqual([]);
  });
});
