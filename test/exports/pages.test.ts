import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/auth/middleware.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { makeWorld, type World } from '../support/world.ts';

/** "Export CSV" on /tasks and /audit: the link carries the page's filters and the file holds every row they select. */
describe('Export CSV links on the pages', () => {
  let ctx: TestApp;
  let w: World;
  const page = (token: string, path: string) =>
    ctx.app.request(`http://portal.test${path}`, {
      headers: { cookie: `${SESSION_COOKIE}=${token}`, accept: 'text/html' },
    });
  const exportHref = (html: string) => {
    const href = /<a href="([^"]+)" download="" data-export/.exec(html)?.[1];
    expect(href, 'an Export CSV link').toBeDefined();
    return href!.replaceAll('&amp;', '&');
  };
  const ids = (csv: string) =>
    csv
      .trim()
      .split('\r\n')
      .slice(1)
      .map((line) => Number(line.split(',')[0]))
      .sort((a, b) => a - b);

  beforeAll(async () => {
    ctx = await startTestApp('pglite');
    w = await makeWorld(ctx);
  });
  afterAll(() => ctx?.close());

  it('/tasks: the link keeps the filters (even those the API lacks) and exports every matching task, past the page size', async () => {
    const created: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await w.managerA.api.post('/api/tasks', {
        project_id: w.projectA.id,
        title: `Loose end ${i}`,
      });
      created.push(res.body.id);
    }
    const html = await (await page(w.managerA.token, '/tasks?assignee=none&q=Loose')).text();
    const href = exportHref(html);
    expect(href).toMatch(/^\/tasks\/export\.csv\?/);
    expect(new URL(href, 'http://x').searchParams.get('assignee')).toBe('none');
    const res = await page(w.managerA.token, href);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="tasks-/);
    expect(ids(await res.text())).toEqual(created.sort((a, b) => a - b));
    // Another manager's export of the same filters holds none of them (their scope).
    expect(ids(await (await page(w.managerB.token, href)).text())).toEqual([]);
    // Signed out: to the sign-in page, not a file.
    const anon = await ctx.app.request(`http://portal.test${href}`);
    expect(anon.status).toBe(302);
  });

  it('/audit: the link asks the API for the same filters by their API names', async () => {
    const html = await (await page(w.admin.token, `/audit?entity=tasks&id=${w.taskA.id}`)).text();
    const href = exportHref(html);
    expect(href).toBe(`/api/audit/export.csv?entity=tasks&row_id=${w.taskA.id}`);
    const res = await page(w.admin.token, href);
    expect(res.status).toBe(200);
    const rows = (await res.text()).trim().split('\r\n').slice(1);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.split(',')[2]).toBe('tasks');
  });
});
