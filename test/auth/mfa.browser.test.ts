import { Secret, TOTP } from 'otpauth';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const PW = 'a-long-user-password';
const codeAt = (secret: string, steps = 0) =>
  new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({
    timestamp: Date.now() + steps * 30_000,
  });

/**
 * Account security in a real browser: set up two-factor sign-in on /account (QR code, first code,
 * recovery codes), sign out, and sign in again with the code as a second step; and a user an
 * admin asked for a new password, who reaches nothing but the change-password page.
 */
describe('account security in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  let admin: string;
  const problems: string[] = [];
  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    for (const username of ['mia', 'nils'])
      await api(inst.base, admin, 'POST', '/api/users', { username, password: PW, role: 'user' });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  it('enrols on /account, signs out, and signs in with the code as a second step', {
    timeout: 60_000,
  }, async () => {
    const device = await openDevice(browser, inst.base, problems);
    const page = await device.newPage();
    await page.goto(`${inst.base}/login`);
    await page.fill('#username', 'mia');
    await page.fill('#password', PW);
    await page.click('button[type=submit]');
    await page.waitForURL(`${inst.base}/dashboard`);

    await page.goto(`${inst.base}/account`);
    // The password rules are there before anything is typed.
    expect(await page.textContent('section[aria-labelledby="change-password"]')).toContain(
      'At least 12 characters',
    );
    await page.getByRole('button', { name: 'Set up two-factor sign-in' }).click();
    await page.waitForURL(`${inst.base}/account/mfa/setup`);
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
    await page.waitForURL(`${inst.base}/account`);
    expect(await page.textContent('section[aria-labelledby="two-factor"]')).toContain(
      '10 unused recovery codes',
    );

    await page.getByRole('button', { name: 'Sign out' }).first().click();
    await page.waitForURL(/\/login/);
    await page.goto(`${inst.base}/login?next=%2Ftasks`);
    await page.fill('#username', 'mia');
    await page.fill('#password', PW);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/login\?step=code/);
    expect(await page.locator('#password').count()).toBe(0);
    // The code the app shows next (the enrolment spent this step's code).
    await page.fill('#code', codeAt(secret, 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${inst.base}/tasks`);
    await device.close();
    expect(problems).toEqual([]);
  });

  it('a user who must change their password only reaches the change-password page', {
    timeout: 60_000,
  }, async () => {
    const nils = (await api(inst.base, admin, 'GET', '/api/users?q=nils')).body.items[0];
    expect(
      (await api(inst.base, admin, 'PATCH', `/api/users/${nils.id}`, { must_change_password: true })).status,
    ).toBe(200);
    const device = await openDevice(browser, inst.base, problems);
    const page = await device.newPage();
    await page.goto(`${inst.base}/login`);
    await page.fill('#username', 'nils');
    await page.fill('#password', PW);
    await page.click('button[type=submit]');
    await page.waitForURL(`${inst.base}/account/password`);
    expect(await page.textContent('main')).toContain('An admin asked you to choose a new password');
    await page.goto(`${inst.base}/tasks`);
    await page.waitForURL(`${inst.base}/account/password`);

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
    await page.waitForURL(`${inst.base}/dashboard`);
    await page.waitForSelector('[data-connection="live"]');
    await device.close();
    expect(problems).toEqual([]);
  });
});
