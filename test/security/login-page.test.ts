import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, openDevice } from '../support/browser.ts';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.ts';
import { api, signIn } from '../support/live-client.ts';

const PW = 'a-long-user-password';

/**
 * `next` values that try to leave the portal after sign-in, as the query string or form field
 * carries them (already decoded). Each must land on the portal's own origin.
 */
const HOSTILE_NEXT = [
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '/\r\nSet-Cookie: x=1',
  '/\\evil.example',
  '/\\/evil.example',
  '/\t\\evil.example',
  '//evil.example',
  '///evil.example',
  '/.//evil.example',
  '/..//evil.example',
  '/%2F/evil.example',
  '/%2f%2fevil.example',
  '/%5Cevil.example',
  '/%09/evil.example',
  '\t//evil.example',
  'https://evil.example/',
  'http:evil.example',
  '/\u0000/evil.example',
  '/\u2028/evil.example',
  '/ /evil.example',
];

/**
 * The sign-in page against a real portal process: where `next` may send a browser (raw HTTP and
 * Chromium), and the throttled message, which shows only a number of seconds the server computed.
 */
describe('login page: redirects and messages', () => {
  let cluster: Cluster;
  let inst: Instance;
  let origin: string;
  let browser: Browser;
  let cookie: string;
  const problems: string[] = [];

  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    origin = inst.base;
    const admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    await api(inst.base, admin, 'POST', '/api/users', { username: 'rita', password: PW, role: 'user' });
    const form = await postLogin({ username: 'rita', password: PW });
    cookie = /portal_session=[^;]+/.exec(form.headers.get('set-cookie') ?? '')![0];
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  function postLogin(fields: Record<string, string>) {
    return fetch(`${origin}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  }
  const landing = (res: Response) => new URL(res.headers.get('location') ?? 'missing:', origin);

  it('raw HTTP: every hostile next redirects to this origin, never a 5xx (form sign-in and signed-in GET /login)', async () => {
    for (const next of HOSTILE_NEXT) {
      const posted = await postLogin({ username: 'rita', password: PW, next });
      expect(posted.status, JSON.stringify(next)).toBe(303);
      expect(landing(posted).origin, JSON.stringify(next)).toBe(origin);
      const got = await fetch(`${origin}/login?next=${encodeURIComponent(next)}`, {
        redirect: 'manual',
        headers: { cookie },
      });
      expect(got.status, JSON.stringify(next)).toBe(302);
      expect(landing(got).origin, JSON.stringify(next)).toBe(origin);
      // Anonymous: the page renders (200), whatever next is.
      expect((await fetch(`${origin}/login?next=${encodeURIComponent(next)}`)).status).toBe(200);
    }
    // The form sends the username back to the page: cut to 64 characters, never inside one.
    const emoji = await postLogin({ username: `${'a'.repeat(63)}😀`, password: 'wrong password here' });
    expect(emoji.status).toBe(303);
    expect(landing(emoji).searchParams.get('username')).toBe(`${'a'.repeat(63)}😀`);
    // Paths on this site are kept, query and fragment included.
    const kept = await postLogin({ username: 'rita', password: PW, next: '/tasks?status=todo#top' });
    expect(kept.headers.get('location')).toBe('/tasks?status=todo#top');
  });

  async function browserEndsOn(page: Page, next: string) {
    // The form the page renders, its hidden next set to the hostile value.
    await page.goto(`${origin}/login`);
    await page.fill('#username', 'rita');
    await page.fill('#password', PW);
    await page.evaluate((value) => {
      (document.querySelector('input[name=next]') as HTMLInputElement).value = value;
    }, next);
    // A navigation off the portal fails here (no network): what counts is where the page is.
    await Promise.all([page.waitForNavigation().catch(() => undefined), page.click('button[type=submit]')]);
    await page.waitForLoadState('load');
    return new URL(page.url()).origin;
  }

  it('Chromium stays on the portal after sign-in with a hostile next, and when signed in opens /login?next=', {
    timeout: 240_000,
  }, async () => {
    const device = await openDevice(browser, origin, problems);
    const page = await device.newPage();
    for (const next of HOSTILE_NEXT) {
      expect(await browserEndsOn(page, next), JSON.stringify(next)).toBe(origin);
      // Signed in now: GET /login?next= redirects at once.
      await page.goto(`${origin}/login?next=${encodeURIComponent(next)}`);
      await page.waitForLoadState('load');
      expect(new URL(page.url()).origin, JSON.stringify(next)).toBe(origin);
      await device.clearCookies();
    }
    expect(problems.filter((p) => p.startsWith('left the origin'))).toEqual([]);
    await device.close();
  });

  it('the throttled message shows only a number of seconds the server computed', async () => {
    for (const retry of [
      '<b>call 555-0100</b>',
      '5 seconds. Call the helpdesk on 555-0100',
      '-3',
      '1e9',
      '99999999',
    ]) {
      const html = await (
        await fetch(`${origin}/login?error=throttled&retry=${encodeURIComponent(retry)}`)
      ).text();
      expect(html).toContain('Too many failed attempts.');
      expect(html, retry).not.toContain('555-0100');
      expect(html, retry).not.toMatch(/Try again in/);
    }
    const html = await (await fetch(`${origin}/login?error=throttled&retry=42`)).text();
    expect(html).toContain('Try again in 42 seconds.');
    // The real flow: failures up to the limit, then the redirect carries the server's own number.
    let res: Response | undefined;
    for (let i = 0; i < 6; i++) res = await postLogin({ username: 'rita', password: `wrong ${i} password` });
    const location = res!.headers.get('location')!;
    expect(location).toMatch(/^\/login\?error=throttled&retry=\d+&/);
    const page = await (await fetch(`${origin}${location}`)).text();
    expect(page).toMatch(/Try again in \d+ seconds\./);
  });
});
