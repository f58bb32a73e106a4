import { signInWithForm } from '../support/browser.ts';
import { ADMIN } from '../support/cluster.ts';
import { expect, test } from '../support/fixtures.ts';

test.override({ cast: {} });

/** Issue 9 item 11 in a real browser: no page renders in quirks mode. */
test.describe('every page in standards mode (Chromium)', () => {
  test('has document.compatMode CSS1Compat on every page, signed out and signed in', async ({
    pageAs,
    portal,
    problems,
  }) => {
    const page = await pageAs(null, { allow: /404 \(Not Found\)/ });
    const modes: Record<string, string> = {};
    const visit = async (path: string) => {
      await page.goto(`${portal.base}${path}`);
      modes[path] = await page.evaluate(() => document.compatMode);
    };
    for (const path of ['/login', '/api/docs', '/no/such/page']) await visit(path);
    await signInWithForm(page, portal.base, ADMIN.username, ADMIN.password);
    for (const path of ['/dashboard', '/projects', '/tasks', '/users', '/audit', '/account', '/missing']) {
      await visit(path);
    }
    expect(Object.entries(modes).filter(([, mode]) => mode !== 'CSS1Compat')).toEqual([]);
    expect(Object.keys(modes)).toHaveLength(10);
    // Headers the browser reads (Permissions-Policy, CSP) draw no complaint either. The 404s are
    // the pages themselves, which Chromium reports as failed loads: those are the only console errors.
    expect(problems.filter((p) => !/404 \(Not Found\)/.test(p))).toEqual([]);
  });

  test('uses no deprecated browser API on any page (what Lighthouse counts against best practices)', async ({
    pageAs,
    portal,
  }) => {
    const page = await pageAs(null);
    // Chromium reports a deprecated API as an Audits issue (the source of Lighthouse's audit);
    // Alpine's CSP build once read window.fence on every page with live parts.
    const cdp = await page.context().newCDPSession(page);
    const deprecations: string[] = [];
    cdp.on('Audits.issueAdded', ({ issue }) => {
      const details = issue.details.deprecationIssueDetails;
      if (details)
        deprecations.push(`${page.url()}: ${details.type} (${details.sourceCodeLocation?.url ?? ''})`);
    });
    await cdp.send('Audits.enable');
    await page.goto(`${portal.base}/login`);
    await signInWithForm(page, portal.base, ADMIN.username, ADMIN.password);
    for (const path of [
      '/dashboard',
      '/projects',
      '/tasks',
      '/tasks?view=board',
      '/users',
      '/audit',
      '/account',
    ]) {
      await page.goto(`${portal.base}${path}`);
      await page.waitForLoadState('networkidle');
    }
    expect(deprecations).toEqual([]);
  });
});
