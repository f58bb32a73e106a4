import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signInWithForm, watchCsp } from '../support/browser.js';
import { ADMIN, type Cluster, type Instance, startCluster } from '../support/cluster.js';
import { api, signIn } from '../support/live-client.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const PW = 'a-long-user-password';

interface Violation {
  id: string;
  impact: string;
  nodes: { target: string[] }[];
}

/** axe-core over every page, light and dark: no serious or critical violations. */
describe('accessibility (axe-core) in Chromium', () => {
  let cluster: Cluster;
  let inst: Instance;
  let browser: Browser;
  beforeAll(async () => {
    cluster = await startCluster(1);
    inst = cluster.instances[0]!;
    browser = await launchChromium();
    const admin = await signIn(inst.base, ADMIN.username, ADMIN.password);
    await api(inst.base, admin, 'POST', '/api/users', { username: 'ally', password: PW, role: 'manager' });
    const ally = await signIn(inst.base, 'ally', PW);
    const project = await api(inst.base, ally, 'POST', '/api/projects', { name: 'Accessible' });
    await api(inst.base, ally, 'POST', '/api/tasks', {
      project_id: project.body.id,
      title: 'Check contrast',
      due_date: '2001-01-01',
    });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  async function audit(page: Page): Promise<Violation[]> {
    // Evaluated by the test's driver, not as a <script>: the page's CSP stays in force.
    await page.evaluate(AXE);
    const result = await page.evaluate(async () => {
      // biome-ignore lint/suspicious/noExplicitAny: axe is injected at run time
      const axe = (globalThis as any).axe;
      return (await axe.run(document, { resultTypes: ['violations'] })).violations;
    });
    return (result as Violation[]).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  }

  it('flags a page that is broken on purpose (the check can fail)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.setContent('<html><body><img src="data:,"><button></button></body></html>');
    expect((await audit(page)).map((v) => v.id)).toEqual(
      expect.arrayContaining(['image-alt', 'button-name']),
    );
    await context.close();
  });

  it.each(['light', 'dark'] as const)(
    'finds nothing serious on any page (%s)',
    { timeout: 180_000 },
    async (scheme) => {
      // Under the portal's CSP: any violation on any page audited fails the test too.
      const context = await browser.newContext({ colorScheme: scheme });
      const csp: string[] = [];
      await watchCsp(context, csp);
      const page = await context.newPage();
      const found: Record<string, string[]> = {};
      const check = async (path: string) => {
        await page.goto(`${inst.base}${path}`);
        await page.waitForLoadState('networkidle').catch(() => {});
        const violations = await audit(page);
        if (violations.length)
          found[path] = violations.map(
            (v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
          );
      };
      await check('/login');
      await signInWithForm(page, inst.base, ADMIN.username, ADMIN.password);
      for (const path of [
        '/dashboard',
        '/tasks',
        '/tasks?assignee=me&overdue=1',
        '/tasks/1',
        '/tasks/99999',
        '/projects',
        '/projects/1',
        '/workload',
        '/users',
        '/audit',
        '/account',
        '/api/docs',
      ])
        await check(path);
      // The task dialog, open, with an inline error in it.
      await page.goto(`${inst.base}/tasks`);
      await page.click('#task-new');
      await page.waitForSelector('dialog#task-dialog[open] form');
      await page.click('#task-dialog >> text=Create task');
      await page.waitForSelector('#tf-title-error');
      const inDialog = await audit(page);
      if (inDialog.length)
        found['/tasks (dialog)'] = inDialog.map(
          (v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
        );
      // And the edit form of a project, open, with an inline error in it.
      await page.goto(`${inst.base}/projects`);
      await page.click('tr[data-project] summary');
      await page.fill('tr[data-project] input[name=name]', '');
      await page.click('tr[data-project] >> text=Save');
      await page.waitForSelector('tr[data-project] p.error');
      const editing = await audit(page);
      if (editing.length)
        found['/projects (editing)'] = editing.map(
          (v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
        );
      await context.close();
      expect(found).toEqual({});
      expect(csp).toEqual([]);
    },
  );
});
