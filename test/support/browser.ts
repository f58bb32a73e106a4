import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';

/** Debian's Chromium, headless, with nothing reaching outside this machine. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * Reports into `problems` what a page should never do: log a console error, throw an uncaught
 * error, or make a request anywhere but `origin` (e.g. `http://127.0.0.1:3000`), its WebSocket
 * twin (`ws://127.0.0.1:3000`) or a `data:` URL.
 */
export function watchPage(page: Page, origin: string, problems: string[]): void {
  const http = new URL(origin).origin;
  const ws = http.replace(/^http/, 'ws');
  // Followed by '/', so that port 3000 does not also admit port 30001.
  const allowed = (url: string) =>
    url.startsWith(`${http}/`) || url.startsWith(`${ws}/`) || url.startsWith('data:');
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page: ${e.message}`));
  page.on('request', (r) => {
    if (!allowed(r.url())) problems.push(`left the origin: ${r.url()}`);
  });
  // WebSockets are not requests to Playwright: they have an event of their own.
  page.on('websocket', (s) => {
    if (!allowed(s.url())) problems.push(`left the origin: ${s.url()}`);
  });
}

/**
 * Reports into `problems` every Content-Security-Policy violation on the pages of `context`, as
 * `csp: <directive> blocked <what>` (from the `securitypolicyviolation` event each document fires;
 * Chromium also logs them on the console, which {@link watchPage} reports as console errors).
 * The CSP is the portal's own (docs/http.md): inline script or style, eval, or a foreign origin
 * anywhere in the pages is a bug. A context opened with `bypassCSP` sees no violations.
 */
export async function watchCsp(context: BrowserContext, problems: string[]): Promise<void> {
  await context.exposeBinding('__portalCspViolation', ({ page }, v: Record<string, string>) => {
    problems.push(
      `csp: ${v.directive} blocked ${v.blocked || '(inline)'} on ${page.url()}${v.sample ? ` (${v.sample})` : ''}`,
    );
  });
  await context.addInitScript(() => {
    document.addEventListener(
      'securitypolicyviolation',
      (e) => {
        // biome-ignore lint/suspicious/noExplicitAny: the binding is exposed by Playwright above
        (globalThis as any).__portalCspViolation({
          directive: e.effectiveDirective,
          blocked: e.blockedURI,
          sample: e.sample,
        });
      },
      true,
    );
  });
}

export interface DeviceOptions extends BrowserContextOptions {
  /** Says yes to every `confirm()` (otherwise Playwright dismisses it). */
  acceptDialogs?: boolean;
}

/** A browser context (a device) each of whose pages is watched with {@link watchPage} and {@link watchCsp}. */
export async function openDevice(
  browser: Browser,
  origin: string,
  problems: string[],
  options: DeviceOptions = {},
): Promise<BrowserContext> {
  const { acceptDialogs = false, ...contextOptions } = options;
  const context = await browser.newContext(contextOptions);
  await watchCsp(context, problems);
  context.on('page', (page) => {
    watchPage(page, origin, problems);
    if (acceptDialogs) page.on('dialog', (d) => void d.accept());
  });
  return context;
}

/** Signs in through the login form and waits until the browser has arrived at `next`. */
export async function signInWithForm(
  page: Page,
  origin: string,
  username: string,
  password: string,
  next = '/dashboard',
): Promise<void> {
  await page.goto(`${origin}/login?next=${encodeURIComponent(next)}`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${origin}${next}`);
}
