import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/auth/middleware.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { validateHtml } from '../support/html-validate.ts';
import { makeWorld, type World } from '../support/world.ts';

const ORIGIN = 'http://portal.test';

/**
 * The page side of "no lost edits" over HTTP (the browser side: test/views/lost-edits.browser.test.ts):
 * the watch an open form asks, and the page routes refusing a stale version without a 5xx.
 */
describe('no lost edits: page routes', () => {
  let ctx: TestApp;
  let w: World;
  const get = (token: string | undefined, path: string) =>
    ctx.app.request(`${ORIGIN}${path}`, {
      headers: { accept: 'text/html', ...(token ? { cookie: `${SESSION_COOKIE}=${token}` } : {}) },
    });
  const post = (token: string, path: string, fields: Record<string, string>, htmx = true) =>
    ctx.app.request(`${ORIGIN}${path}`, {
      method: 'POST',
      headers: {
        cookie: `${SESSION_COOKIE}=${token}`,
        origin: ORIGIN,
        'content-type': 'application/x-www-form-urlencoded',
        ...(htmx ? { 'hx-request': 'true' } : {}),
      },
      body: new URLSearchParams(fields).toString(),
    });
  /** The version and log position a rendered edit form carries. */
  const versionOf = (html: string) => ({
    version: /name="version" value="([^"]+)"/.exec(html)![1]!.replaceAll('&quot;', '"'),
    since: /name="since" value="(\d+)"/.exec(html)![1]!,
  });

  beforeAll(async () => {
    ctx = await startTestApp('pglite');
    w = await makeWorld(ctx);
  });
  afterAll(() => ctx?.close());

  it('the watch: 204 while current, then who changed what; nothing for strangers, 401 signed out, 404 for junk ids', async () => {
    const task = (await w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'Watched' }))
      .body;
    const form = await (await get(w.managerA.token, `/tasks/${task.id}/edit`)).text();
    const { version, since } = versionOf(form);
    expect(version).toBe((await w.managerA.api.get(`/api/tasks/${task.id}`)).headers.get('etag'));
    const watch = (token: string | undefined, v = version) =>
      get(token, `/tasks/${task.id}/changes?version=${encodeURIComponent(v)}&since=${since}`);

    expect((await watch(w.managerA.token)).status).toBe(204);
    await w.admin.api.patch(`/api/tasks/${task.id}`, { title: 'Watched closely', priority: 'high' });
    const changed = await watch(w.managerA.token);
    expect(changed.status).toBe(200);
    const notice = await changed.text();
    expect(notice).toContain('data-conflict');
    expect(notice).toMatch(
      /title<\/span>: <span class="old">Watched<\/span> → <span class="new">Watched closely/,
    );
    expect(notice).toMatch(/priority<\/span>: <span class="old">medium/);
    expect(notice).not.toContain('created');
    const now = (await w.admin.api.get(`/api/tasks/${task.id}`)).headers.get('etag')!;
    expect(notice).toContain(`value="${now.replaceAll('"', '&quot;')}"`);
    expect((await watch(w.managerA.token, now)).status).toBe(204);

    // Someone who may not see the task learns nothing about it (the same as a deleted one).
    const stranger = await (await watch(w.managerB.token)).text();
    expect(stranger).toContain('was deleted');
    expect(stranger).not.toContain('Watched');
    expect((await watch(undefined)).status).toBe(401);
    // A project's or a user's history is for those who may edit them: not for its task's assignee
    // (who sees the project), not for a manager (who may read users).
    const projectWatch = (token: string) =>
      get(token, `/projects/${w.projectA.id}/changes?version=x&since=0`);
    expect(await (await projectWatch(w.managerA.token)).text()).toContain('data-changes');
    expect(await (await projectWatch(w.userA.token)).text()).toContain('was deleted');
    const userWatch = (token: string) => get(token, `/users/${w.userA.id}/changes?version=x&since=0`);
    expect(await (await userWatch(w.admin.token)).text()).toContain('data-changes');
    expect(await (await userWatch(w.managerA.token)).text()).toContain('was deleted');
    expect((await get(w.managerA.token, '/tasks/abc/changes?version=x')).status).toBe(404);
  });

  it('a stale or malformed version on the task forms: refused with the notice or a message, never a 5xx', async () => {
    const task = (await w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'Stale' }))
      .body;
    const { version, since } = versionOf(
      await (await get(w.managerA.token, `/tasks/${task.id}/edit`)).text(),
    );
    await w.admin.api.patch(`/api/tasks/${task.id}`, { description: 'theirs' });

    // The dialog's save: the form again, as typed, with the notice; nothing written.
    const dialog = await post(w.managerA.token, `/tasks/${task.id}/edit`, { title: 'Mine', version, since });
    expect(dialog.status).toBe(200);
    const html = await dialog.text();
    expect(html).toContain('Your save was refused');
    expect(html).toContain('value="Mine"');
    expect(versionOf(html).version).toBe(version);
    expect((await w.admin.api.get(`/api/tasks/${task.id}`)).body.title).toBe('Stale');

    // The list's status select: the API's 412 with who changed what (htmx), a page without JavaScript.
    const select = await post(w.managerA.token, `/tasks/${task.id}/status`, {
      new_status: 'done',
      version,
      since,
    });
    expect(select.status).toBe(412);
    const body = (await select.json()) as {
      error: { code: string; message: string; details: { etag: string } };
    };
    expect(body.error.code).toBe('precondition_failed');
    expect(body.error.message).toMatch(/changed description none → theirs/);
    const page = await post(
      w.managerA.token,
      `/tasks/${task.id}/status`,
      { new_status: 'done', version, since },
      false,
    );
    expect(page.status).toBe(412);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('Overwrite with mine');
    expect((await w.admin.api.get(`/api/tasks/${task.id}`)).body.status).toBe('todo');

    // Overwrite: the current version as `overwrite` saves.
    const over = await post(w.managerA.token, `/tasks/${task.id}/status`, {
      new_status: 'done',
      version,
      since,
      overwrite: body.error.details.etag,
    });
    expect(over.status).toBe(200);
    expect((await w.admin.api.get(`/api/tasks/${task.id}`)).body.status).toBe('done');

    // Junk in the version: a 4xx or a message on the form, never a 5xx, never a write.
    const junk = await post(w.managerA.token, `/tasks/${task.id}/edit`, {
      title: 'Junk',
      version: 'not a tag',
    });
    expect(junk.status).toBe(200);
    expect(await junk.text()).toContain('If-Match must be');
    const junkStatus = await post(w.managerA.token, `/tasks/${task.id}/status`, {
      new_status: 'todo',
      overwrite: 'x',
    });
    expect(junkStatus.status).toBe(400);
    expect((await w.admin.api.get(`/api/tasks/${task.id}`)).body).toMatchObject({
      title: 'Stale',
      status: 'done',
    });
  });

  it('a delete from a stale form is refused: the form shows the task as it is now; deleting that works', async () => {
    const task = (await w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'Doomed' }))
      .body;
    const { version, since } = versionOf(
      await (await get(w.managerA.token, `/tasks/${task.id}/edit`)).text(),
    );
    await w.admin.api.patch(`/api/tasks/${task.id}`, { title: 'Doomed? Not so fast' });
    const refused = await post(w.managerA.token, `/tasks/${task.id}/delete`, { version, since });
    expect(refused.status).toBe(200);
    const html = await refused.text();
    expect(await validateHtml(html, 'fragment')).toEqual([]);
    expect(html).toContain('Not deleted');
    expect(html).toContain('value="Doomed? Not so fast"');
    expect(await w.taskExists(task.id)).toBe(true);
    const fresh = versionOf(html);
    expect(fresh.version).not.toBe(version);
    const deleted = await post(w.managerA.token, `/tasks/${task.id}/delete`, fresh);
    expect(deleted.status).toBe(200);
    expect(await w.taskExists(task.id)).toBe(false);
  });

  it('project and user forms refuse a stale version and keep the row as the other person left it', async () => {
    const projects = await (await get(w.managerA.token, '/projects')).text();
    const { version, since } = versionOf(projects.slice(projects.indexOf(`/projects/${w.projectA.id}/edit`)));
    await w.admin.api.patch(`/api/projects/${w.projectA.id}`, { description: 'by the admin' });
    const refused = await post(w.managerA.token, `/projects/${w.projectA.id}/edit`, {
      name: 'Renamed by mara',
      description: '',
      version,
      since,
    });
    expect(refused.status).toBe(200);
    const html = await refused.text();
    expect(html).toContain('Your save was refused');
    expect(html).toMatch(
      /description<\/span>: <span class="old">none<\/span> → <span class="new">by the admin/,
    );
    expect((await w.admin.api.get(`/api/projects/${w.projectA.id}`)).body).toMatchObject({
      name: 'Project A',
      description: 'by the admin',
    });

    const users = await (await get(w.admin.token, '/users')).text();
    const row = versionOf(users.slice(users.indexOf(`/users/${w.userB.id}/role`)));
    await w.admin.api.patch(`/api/users/${w.userB.id}`, { display_name: 'Ulrich B.' });
    const role = await post(w.admin.token, `/users/${w.userB.id}/role`, { role: 'manager', ...row });
    expect(role.status).toBe(200);
    expect(await role.text()).toContain('Your save was refused');
    expect((await w.admin.api.get(`/api/users/${w.userB.id}`)).body.role).toBe('user');
  });
});
