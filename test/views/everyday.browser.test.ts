import { type ApiTask, expect, test } from '../support/fixtures.ts';
import { api } from '../support/live-client.ts';

test.override({
  cast: { tia: 'user', mia: 'manager' },
  plan: {
    project: { name: 'Garden' },
    by: 'mia',
    tasks: ['Weed', 'Water', 'Prune'].map((title) => ({ title, assignee: 'tia' })),
  },
  // "Last used" is tested by moving it back in the database (a write outside the portal), which a
  // cached sign-in does not see for up to SIGN_IN_CACHE_SECONDS (docs/decisions/0029): this file
  // runs without the cache; test/auth/sign-in-cache-writes.test.ts covers stamping on cache hits.
  cluster: { env: { SIGN_IN_CACHE_SECONDS: '0' } },
});

/**
 * Smaller things of everyday use, in Chromium: live changes are highlighted for a moment, the
 * completions chart counts from zero, arrow keys on a status select do not save every value
 * passed through, the account page says when each sign-in was last used, and creating a
 * project keeps the focus in the form.
 */
test.describe('everyday use in Chromium', () => {
  let base: string;
  let admin: string;
  const ids = { tia: 0, project: 0, tasks: [] as number[] };
  test.beforeAll(({ portal, people, world }) => {
    base = portal.base;
    admin = portal.admin;
    ids.tia = people.get('tia').id;
    ids.project = world.project.id;
    ids.tasks = world.tasks.map((t) => t.id);
  });

  const statusOf = async (id: number) =>
    (await api<ApiTask>(base, admin, 'GET', `/api/tasks/${id}`)).body.status;

  test('counts completions from zero, in whole numbers, when nothing was completed', {
    timeout: 60_000,
  }, async ({ pageAs }) => {
    const page = await pageAs('tia', { path: '/dashboard' });
    await page.waitForSelector('[data-connection="live"]');
    const axis = await page.evaluate(() => {
      type Scale = { min: number; max: number; ticks: { value: number }[] };
      const { Chart } = globalThis as unknown as {
        Chart: { getChart(id: string): { scales: { y: Scale } } };
      };
      const y = Chart.getChart('chart-completed').scales.y;
      return { min: y.min, max: y.max, ticks: y.ticks.map((t) => t.value) };
    });
    expect(axis.min).toBe(0);
    expect(axis.max).toBeGreaterThanOrEqual(4);
    expect(axis.ticks.every((v: number) => Number.isInteger(v) && v >= 0)).toBe(true);
    await page.context().close();
  });

  test('highlights the numbers a live change touched, for a moment; without motion on request', {
    timeout: 60_000,
  }, async ({ pageAs, portal }) => {
    const page = await pageAs('tia', { path: '/dashboard' });
    const still = await pageAs('tia', { path: '/dashboard', device: { reducedMotion: 'reduce' } });
    for (const p of [page, still]) await p.waitForSelector('[data-connection="live"]');
    // Nothing is highlighted by the first render.
    expect(await page.locator('.changed').count()).toBe(0);
    // Reduced motion: the same hint, held and then gone at once instead of fading.
    const stillTiming = still.waitForFunction(() => {
      const el = document.querySelector('[data-metric="my_tasks.in_progress"].changed');
      return el ? getComputedStyle(el, '::after').animationTimingFunction : false;
    });
    await portal.api('PATCH', `/api/tasks/${ids.tasks[2]}`, { status: 'in_progress' });
    await page.waitForSelector('[data-metric="my_tasks.in_progress"].changed');
    expect(await page.textContent('[data-metric="my_tasks.in_progress"]')).toBe('1');
    // Only what changed.
    expect(await page.locator('[data-metric="my_tasks.blocked"].changed').count()).toBe(0);
    expect(
      await page.evaluate(
        () => getComputedStyle(document.querySelector('.changed')!, '::after').animationName,
      ),
    ).toBe('changed');
    // And for a moment only.
    await page.waitForSelector('[data-metric="my_tasks.in_progress"].changed', { state: 'detached' });
    // step-end, as Chromium spells it.
    expect(await (await stillTiming).jsonValue()).toMatch(/^(step-end|steps\(1(, end)?\))$/);
    await page.context().close();
    await still.context().close();
  });

  test('arrow keys on a status select save only the value committed with Enter or by leaving', {
    timeout: 60_000,
  }, async ({ pageAs }) => {
    const page = await pageAs('tia', { path: '/tasks' });
    await page.waitForSelector('[data-connection="live"]');
    const posts: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().includes('/status')) posts.push(r.postData() ?? '');
    });
    const [weed, water] = [ids.tasks[0]!, ids.tasks[1]!];
    await page.focus(`#status-${weed}`);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await page.inputValue(`#status-${weed}`)).toBe('blocked');
    // Passed through "In progress" and landed on "Blocked": nothing sent yet, and it says so.
    expect(posts).toEqual([]);
    expect(await page.getAttribute(`#status-${weed}`, 'aria-describedby')).toBe('select-commit-hint');
    expect(await page.textContent('#select-commit-hint')).toMatch(/Enter to save/);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`[data-column="blocked"] li[data-card="${weed}"]`);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toContain('new_status=blocked');
    expect(await statusOf(weed)).toBe('blocked');

    // Escape takes a keyboard choice back.
    await page.focus(`#status-${water}`);
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Escape');
    expect(await page.inputValue(`#status-${water}`)).toBe('todo');
    // Leaving the control saves what it shows.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Tab');
    await page.waitForSelector(`[data-column="in_progress"] li[data-card="${water}"]`);
    expect(posts).toHaveLength(2);
    expect(await statusOf(water)).toBe('in_progress');

    // The mouse (or any pick from the opened list) saves at once, as before.
    await page.selectOption(`#status-${water}`, 'done');
    await page.waitForSelector(`[data-column="done"] li[data-card="${water}"]`);
    expect(posts).toHaveLength(3);
    await page.context().close();
  });

  test('says when each sign-in was last used and which one is this device', { timeout: 60_000 }, async ({
    pageAs,
    portal,
  }) => {
    const phone = await pageAs('tia', { path: '/dashboard' });
    const page = await pageAs('tia', { path: '/account' });
    const sessions = await portal.sql.query<{ id: string }>(
      `select id from auth_sessions where user_id = $1 and revoked_at is null order by created_at`,
      [ids.tia],
    );
    // tia has signed in four times by now; the phone is the last but one.
    const phoneId = sessions.rows.at(-2)!.id;
    const mine = sessions.rows.at(-1)!.id;
    await portal.sql.query(
      `update auth_sessions set last_used_at = now() - interval '3 hours' where id = $1`,
      [phoneId],
    );
    await page.reload();
    expect(await page.textContent(`tr[data-session="${phoneId}"] [data-last-used]`)).toBe('3 hours ago');
    expect(await page.textContent(`tr[data-session="${mine}"] [data-last-used]`)).toBe('Now');
    expect(await page.textContent(`tr[data-session="${mine}"] .this-device`)).toContain('this device');
    expect(await page.locator('.this-device').count()).toBe(1);

    // Using a sign-in brings its time up to date, at most once a minute.
    await portal.sql.query(
      `update auth_sessions set last_used_at = now() - interval '2 hours' where id = $1`,
      [phoneId],
    );
    await phone.reload();
    const fresh = await portal.sql.query<{ age: number }>(
      `select extract(epoch from now() - last_used_at) as age from auth_sessions where id = $1`,
      [phoneId],
    );
    expect(Number(fresh.rows[0]!.age)).toBeLessThan(60);
    await portal.sql.query(
      `update auth_sessions set last_used_at = now() - interval '30 seconds' where id = $1`,
      [phoneId],
    );
    const before = await portal.sql.query(`select last_used_at from auth_sessions where id = $1`, [phoneId]);
    await phone.reload();
    const after = await portal.sql.query(`select last_used_at from auth_sessions where id = $1`, [phoneId]);
    expect(after.rows[0].last_used_at).toEqual(before.rows[0].last_used_at);
    await page.reload();
    expect(await page.textContent(`tr[data-session="${phoneId}"] [data-last-used]`)).toBe(
      'in the last minute',
    );
    await phone.context().close();
    await page.context().close();
  });

  test('keeps the focus in the form after creating a project, and reads out what was done', {
    timeout: 60_000,
  }, async ({ pageAs, problems }) => {
    const page = await pageAs('mia', { path: '/projects' });
    // Dragging the description's resize handle gives it an inline height (through CSSOM, which
    // the CSP allows); the swap after a create must not copy that onto the new form as a style
    // attribute (which the CSP refuses, with a console error).
    await page.evaluate(() => {
      document.querySelector<HTMLElement>('#new-description')!.style.height = '7rem';
    });
    await page.fill('#new-name', 'Orchard');
    await page.click('text=Create project');
    await page.locator('tr[data-project]', { hasText: 'Orchard' }).waitFor();
    await page.waitForFunction(() => document.activeElement?.id === 'new-name');
    expect(await page.getAttribute('#new-name', 'aria-describedby')).toBe('projects-notice new-name-limit');
    expect(await page.textContent('#projects-notice')).toBe('Created the project “Orchard”.');
    // A refused create puts the focus on the field to fix.
    await page.fill('#new-name', '  ');
    await page.click('text=Create project');
    await page.waitForSelector('#new-name-error');
    await page.waitForFunction(() => document.activeElement?.id === 'new-name');
    expect(await page.getAttribute('#new-name', 'aria-describedby')).toBe('new-name-error new-name-limit');
    await page.context().close();
    expect(problems.filter((p) => /Content Security Policy/.test(p))).toEqual([]);
  });

  test('raised no console errors and made no request outside the portal', ({ problems }) => {
    expect(problems).toEqual([]);
  });
});
