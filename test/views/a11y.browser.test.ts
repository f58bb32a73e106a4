import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { signInWithForm, watchCsp } from '../support/browser.ts';
import { ADMIN } from '../support/cluster.ts';
import { expect, test } from '../support/fixtures.ts';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

test.override({
  cast: { ally: 'manager' },
  plan: {
    project: { name: 'Accessible' },
    by: 'ally',
    tasks: [{ title: 'Check contrast', due_date: '2001-01-01' }],
  },
});

interface Violation {
  id: string;
  impact: string;
  nodes: { target: string[] }[];
}

/** axe-core over every page, light and dark: no serious or critical violations. */
test.describe('accessibility (axe-core) in Chromium', () => {
  // Asking for the world is what makes the fixture create the project and its late task.
  test.beforeAll(({ world }) => {
    void world;
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

  test('flags a page that is broken on purpose (the check can fail)', async ({ browser }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.setContent('<html><body><img src="data:,"><button></button></body></html>');
    expect((await audit(page)).map((v) => v.id)).toEqual(
      expect.arrayContaining(['image-alt', 'button-name']),
    );
    await context.close();
  });

  test.for(['light', 'dark'] as const)(
    'finds nothing serious on any page (%s)',
    { timeout: 180_000 },
    async (scheme, { browser, portal }) => {
      // Under the portal's CSP: any violation on any page audited fails the test too.
      const context = await browser.newContext({ colorScheme: scheme });
      const csp: string[] = [];
      await watchCsp(context, csp);
      const page = await context.newPage();
      const found: Record<string, string[]> = {};
      const check = async (path: string) => {
        await page.goto(`${portal.base}${path}`);
        await page.waitForLoadState('networkidle').catch(() => {});
        const violations = await audit(page);
        if (violations.length)
          found[path] = violations.map(
            (v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
          );
      };
      await check('/login');
      await signInWithForm(page, portal.base, ADMIN.username, ADMIN.password);
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
      await page.goto(`${portal.base}/tasks`);
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
      await page.goto(`${portal.base}/projects`);
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
