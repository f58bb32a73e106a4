import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { signInWithForm } from '../support/browser.ts';
import { ADMIN } from '../support/cluster.ts';
import { type ApiProject, type ApiTask, expect, PASSWORD as PW, test } from '../support/fixtures.ts';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const WIDTH = 390;
const HEIGHT = 844;

// Realistic worst cases: long names, long unbroken words, long usernames (64 characters at most).
const MANAGER = 'maximiliane.featherstonehaugh-wolfeschlegelsteinhausenbergerdorf';
const MANAGER_NAME = 'Maximiliane Featherstonehaugh-Wolfeschlegelsteinhausenbergerdorff von Oberammergau';
const USER = 'bartholomew_cunningham-fitzgerald_the_third_of_northumberland';
const USER_NAME = 'Bartholomew Alexander Cunningham-Fitzgerald of Northumberland and Strathclyde';
const UNBROKEN = 'Rechtsschutzversicherungsgesellschaftenvertragsverhandlungsdokumentationsarchivierung';
const LONG_TITLE =
  'Prepare the annual compliance report for the supervisory board, including every subsidiary and all appendices';
const PROJECT = 'Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft';

/**
 * Issue 14 item 9: at a phone's width (390 px) no page scrolls sideways, in light and dark, for
 * each role, with long names and words in it; tables turn into stacked cards (or scroll in their
 * own box), the controls of a row stay on screen, and every dialog fits the screen.
 * SCREENSHOTS=docs/screenshots also writes the README's phone screenshots.
 */
test.override({
  cast: {
    [MANAGER]: { role: 'manager', display_name: MANAGER_NAME },
    [USER]: { role: 'user', display_name: USER_NAME },
    ada: { role: 'user', display_name: 'Ada Lovelace' },
    'grace.hopper-and-the-whole-compiler-team-of-nineteen-fifty-two': { role: 'user', display_name: '' },
  },
});

test.describe('phone width (390 px) in Chromium', () => {
  const ids: Record<string, number> = {};
  test.beforeAll(async ({ portal, people }) => {
    ids.manager = people.get(MANAGER).id;
    ids.user = people.get(USER).id;
    const manager = await people.token(MANAGER);
    const project = async (name: string, description: string) =>
      (await portal.apiAs<ApiProject>(manager, 'POST', '/api/projects', { name, description })).body.id;
    ids.project = await project(PROJECT, `${UNBROKEN}${UNBROKEN} and more words after the long one.`);
    await project(
      'Quarterly infrastructure modernisation and datacentre consolidation programme',
      'Move everything.',
    );
    const task = async (title: string, extra: Record<string, unknown> = {}) =>
      (
        await portal.apiAs<ApiTask>(manager, 'POST', '/api/tasks', {
          project_id: ids.project,
          title,
          assignee_id: ids.user,
          description: `${UNBROKEN}\n${'https://example.com/a/very/long/address/without/spaces/'.repeat(3)}`,
          ...extra,
        })
      ).body.id;
    ids.unbroken = await task(UNBROKEN, { due_date: '2001-01-01', priority: 'urgent' });
    ids.long = await task(LONG_TITLE, { due_date: '2099-12-31' });
    for (const n of [1, 2, 3]) await task(`Routine check number ${n}`);
    // History on the task page and entries on the activity page.
    await portal.apiAs(manager, 'PATCH', `/api/tasks/${ids.unbroken}`, {
      status: 'in_progress',
      title: `${UNBROKEN}!`,
    });
    await portal.apiAs(manager, 'PATCH', `/api/tasks/${ids.unbroken}`, { title: UNBROKEN });
  });

  /** The page's width if it scrolls sideways, and the outermost elements that stick out. */
  async function sideways(page: Page): Promise<string | undefined> {
    return page.evaluate((width) => {
      const scroll = document.documentElement.scrollWidth;
      if (scroll <= width) return undefined;
      const out: string[] = [];
      for (const el of Array.from(document.body.querySelectorAll('*'))) {
        const r = el.getBoundingClientRect();
        if (r.right <= width + 0.5 || r.width === 0) continue;
        // Only the outermost: its parent fits.
        const parent = el.parentElement?.getBoundingClientRect();
        if (parent && parent.right > width + 0.5) continue;
        out.push(
          `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}→${Math.round(r.right)}`,
        );
      }
      return `scrollWidth ${scroll}: ${out.slice(0, 6).join(', ')}`;
    }, WIDTH);
  }

  /**
   * The selected controls that are not wholly on screen sideways, with no box scrolled (a row's
   * controls past the edge of a table that scrolls in its own box count as off screen).
   */
  async function offScreen(page: Page, selector: string): Promise<string[]> {
    return page.$$eval(
      selector,
      (els, width) => {
        // Only those that are shown at all (a closed <details> hides its form).
        const shown = els.filter((el) => el.checkVisibility());
        if (shown.length === 0) return ['nothing shown to check'];
        return shown
          .filter((el) => {
            const r = el.getBoundingClientRect();
            return r.width === 0 || r.left < 0 || r.right > width + 0.5;
          })
          .map(
            (el) =>
              `${el.id || el.textContent?.trim().slice(0, 30)} right edge at ${el.getBoundingClientRect().right}`,
          );
      },
      WIDTH,
    );
  }

  /** Every open <dialog>: inside the viewport, and nothing in it scrolls sideways. */
  async function dialogsFit(page: Page): Promise<string[]> {
    return page.$$eval(
      'dialog[open]',
      (dialogs, [width, height]) =>
        dialogs.flatMap((d) => {
          const r = d.getBoundingClientRect();
          const bad: string[] = [];
          if (r.left < 0 || r.top < 0 || r.right > width! + 0.5 || r.bottom > height! + 0.5)
            bad.push(
              `${d.id} at ${Math.round(r.left)},${Math.round(r.top)}–${Math.round(r.right)},${Math.round(r.bottom)}`,
            );
          if (d.scrollWidth > d.clientWidth) bad.push(`${d.id} scrolls sideways (${d.scrollWidth})`);
          return bad;
        }),
      [WIDTH, HEIGHT],
    );
  }

  /** SCREENSHOTS=docs/screenshots: where the README's phone screenshots are written. */
  const shots = process.env.SCREENSHOTS;

  const ROLES = [
    [ADMIN.username, ADMIN.password, 'admin'],
    [MANAGER, PW, 'manager'],
    [USER, PW, 'user'],
  ] as const;
  const cases = ROLES.flatMap(([username, password, role]) =>
    (['light', 'dark'] as const).map((scheme) => ({ username, password, role, scheme })),
  );

  test.for(cases)(
    'no page scrolls sideways: $role, $scheme',
    { timeout: 300_000 },
    async (c, { pageAs, portal }) => {
      const page = await pageAs(null, {
        device: { viewport: { width: WIDTH, height: HEIGHT }, colorScheme: c.scheme },
        allow: /404/,
      });
      const device = page.context();
      // A confirm() (hx-confirm) is the browser's own and always fits: say no to it.
      let confirms = 0;
      page.on('dialog', (d) => {
        confirms++;
        void d.dismiss();
      });
      /** Waits for the question a delete asks: the browser's confirm(), or a <dialog> of the page. */
      const asked = async (before: number, opener: string) => {
        const deadline = Date.now() + 5000;
        while (confirms === before && Date.now() < deadline) {
          const own = await page.$$eval('dialog[open]', (ds) => ds.map((d) => d.id));
          if (own.some((id) => id !== opener)) return;
          await page.waitForTimeout(50);
        }
        if (confirms === before) throw new Error(`no question asked before deleting (${opener})`);
      };
      const found: Record<string, string[]> = {};
      const note = (where: string, what: (string | undefined)[]) => {
        const bad = what.filter((w): w is string => !!w);
        if (bad.length) found[where] = [...(found[where] ?? []), ...bad];
      };
      /** A screenshot for the README, taken in one role and scheme (`when`) only; `at` scrolled into view. */
      const shot = async (name: string, when: string, at?: string) => {
        if (!shots || when !== `${c.role} ${c.scheme}`) return;
        mkdirSync(shots, { recursive: true });
        if (at)
          await page
            .locator(at)
            .first()
            .evaluate((el) => el.scrollIntoView({ block: 'start' }));
        await page.screenshot({ path: `${shots}/${name}.png`, fullPage: !at });
      };
      const visit = async (path: string) => {
        await page.goto(`${portal.base}${path}`);
        await page.waitForLoadState('load');
        note(path, [await sideways(page)]);
      };

      await visit('/login');
      await signInWithForm(page, portal.base, c.username, c.password);
      note('/dashboard', [await sideways(page)]);
      await shot('dashboard-user-phone', 'user light');
      // The notification bell, open.
      await page.click('.bell summary');
      note('/dashboard (bell open)', [await sideways(page), ...(await offScreen(page, '.bell-panel'))]);

      const pages = [
        '/tasks',
        '/tasks?overdue=1',
        `/tasks/${ids.unbroken}`,
        `/tasks/${ids.long}`,
        '/tasks/99999',
        '/projects',
        `/projects/${ids.project}`,
        '/account',
        '/account/password',
        `/${UNBROKEN}/${UNBROKEN}`,
      ];
      if (c.role !== 'user') pages.push('/workload');
      if (c.role === 'admin') pages.push('/users', '/audit', `/audit?entity=tasks&id=${ids.unbroken}`);
      for (const path of pages) await visit(path);
      await visit('/tasks?assignee=me&overdue=1');
      await page.waitForSelector('[data-connection="live"]');
      await shot('tasks-overdue-phone-dark', 'user dark');

      // The task list and board: each row's status picker and Edit button on screen.
      await visit('/tasks');
      await page.waitForSelector('[data-connection="live"]');
      note('/tasks controls', await offScreen(page, '[data-task-list] select, [data-task-list] button'));
      note('/tasks board', await offScreen(page, '[data-board] summary'));
      await shot('tasks-phone', 'manager light', '[data-task-list]');
      await page.click(`[data-card="${ids.unbroken}"] details.move summary`);
      note('/tasks board menu', [
        await sideways(page),
        ...(await offScreen(page, `[data-card="${ids.unbroken}"] button`)),
      ]);

      // The edit (or, for the assignee, status) dialog of the task with the long unbroken title.
      await page.click(`#task-edit-${ids.unbroken}`);
      await page.waitForSelector('#task-dialog[open] form');
      note('/tasks edit dialog', [
        await sideways(page),
        ...(await dialogsFit(page)),
        ...(await offScreen(page, '#task-dialog button')),
      ]);
      await shot('task-status-dialog-phone-dark', 'user dark', '#task-dialog');
      if (c.role !== 'user') {
        // Deleting asks first: whatever asks must fit too.
        const before = confirms;
        await page.click('#task-dialog button.danger');
        await asked(before, 'task-dialog');
        note('/tasks delete confirm', [await sideways(page), ...(await dialogsFit(page))]);
        await page.keyboard.press('Escape');
        if (await page.isVisible('#task-dialog[open]')) await page.keyboard.press('Escape');

        // The new-task dialog, empty and then with its inline errors.
        await page.click('#task-new');
        await page.waitForSelector('#task-dialog[open] #tf-title');
        note('/tasks new dialog', [await sideways(page), ...(await dialogsFit(page))]);
        await page.click('#task-dialog button[type=submit]');
        await page.waitForSelector('#tf-title-error');
        note('/tasks new dialog (errors)', [
          await sideways(page),
          ...(await dialogsFit(page)),
          ...(await offScreen(page, '#task-dialog button')),
        ]);
        await shot('task-dialog-phone', 'manager light', '#task-dialog');
        await page.keyboard.press('Escape');

        // A project's Edit form, open in its row; its Delete asks first.
        await visit('/projects');
        note('/projects controls', await offScreen(page, '[data-projects] summary, [data-projects] button'));
        await page.click(`tr[data-project="${ids.project}"] summary`);
        note('/projects editing', [
          await sideways(page),
          ...(await offScreen(
            page,
            `tr[data-project="${ids.project}"] :is(input, textarea, select, button)`,
          )),
          ...(await dialogsFit(page)),
        ]);
        await shot('projects-editing-phone', 'admin light', `tr[data-project="${ids.project}"]`);
        const beforeProject = confirms;
        await page.click(`tr[data-project="${ids.project}"] button.danger`);
        await asked(beforeProject, '');
        note('/projects delete confirm', [await sideways(page), ...(await dialogsFit(page))]);
        await page.keyboard.press('Escape');
      }
      if (c.role === 'admin') {
        await visit('/users');
        note(
          '/users controls',
          await offScreen(
            page,
            '[data-users] select, [data-users] button, [data-users] input:not([type=hidden])',
          ),
        );
        await shot('users-phone-dark', 'admin dark', '[data-users] tbody');
      }
      // The two-factor setup page (the account's security step).
      await visit('/account');
      await page.click('text=Set up two-factor sign-in');
      await page.waitForSelector('[data-secret]');
      note('/account/mfa/setup', [await sideways(page)]);

      await device.close();
      expect(found).toEqual({});
    },
  );

  test.for(['light', 'dark'] as const)(
    'the stacked cards pass axe-core (no serious or critical violation): %s',
    { timeout: 180_000 },
    async (scheme, { browser, portal }) => {
      // bypassCSP only so that axe itself can be injected; the pages are unchanged.
      const context = await browser.newContext({
        viewport: { width: WIDTH, height: HEIGHT },
        colorScheme: scheme,
        bypassCSP: true,
      });
      const page = await context.newPage();
      await signInWithForm(page, portal.base, ADMIN.username, ADMIN.password);
      const found: Record<string, string[]> = {};
      for (const path of [
        '/tasks',
        '/users',
        '/projects',
        `/projects/${ids.project}`,
        '/audit',
        '/account',
      ]) {
        await page.goto(`${portal.base}${path}`);
        await page.waitForLoadState('load');
        await page.addScriptTag({ path: AXE });
        const violations = (await page.evaluate(async () => {
          // biome-ignore lint/suspicious/noExplicitAny: axe is injected at run time
          const axe = (globalThis as any).axe;
          return (await axe.run(document, { resultTypes: ['violations'] })).violations;
        })) as { id: string; impact: string; nodes: { target: string[] }[] }[];
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        if (serious.length)
          found[path] = serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      }
      await context.close();
      expect(found).toEqual({});
    },
  );

  test('nothing went wrong in the pages', ({ problems }) => {
    expect(problems.filter((p) => !p.includes('404'))).toEqual([]);
  });
});
