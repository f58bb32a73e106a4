import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { query } from '../../src/db/database.ts';
import { changeLog } from '../../src/db/schema/change-log.ts';
import { projects } from '../../src/db/schema/projects.ts';
import { tasks } from '../../src/db/schema/tasks.ts';
import { Description, Name, Password, Username } from '../../src/http/schemas.ts';
import { fieldErrors } from '../../src/http/validation.ts';
import { useApi } from '../support/api-harness.ts';
import { ORIGIN } from '../support/client.ts';
import { expectErrorBody } from '../support/errors.ts';
import { PASSWORD } from '../support/world.ts';

/** Issue 14 items 7 and 8: confirmations with real counts, hand-over, undo, human messages, HTML 403. */
describe('validation messages are sentences a person would write', () => {
  const messages = (schema: z.ZodTypeAny, value: unknown) => {
    const parsed = schema.safeParse(value);
    return parsed.success ? [] : fieldErrors(parsed.error).map((e) => `${e.field} ${e.message}`);
  };

  it('states the limit instead of quoting zod', () => {
    const form = z.object({ title: Name, description: Description, username: Username, password: Password });
    const got = messages(form, {
      title: 'x'.repeat(201),
      description: 'y'.repeat(10_001),
      username: 'no',
      password: 'short',
    });
    expect(got).toEqual([
      'title can be at most 200 characters long',
      'description can be at most 10,000 characters long',
      'username must be at least 3 characters long',
      'password must be at least 12 characters',
    ]);
    expect(
      messages(form, { title: ' ', description: '', username: 'bad name', password: 'x'.repeat(12) }),
    ).toEqual([
      'title must not be empty',
      'username can only use letters, digits, dots, hyphens and underscores (no spaces)',
    ]);
  });

  it('says what is missing or of the wrong kind, and which values are allowed', () => {
    const form = z.object({
      role: z.enum(['user', 'manager', 'admin']),
      n: z.number().int(),
      ok: z.boolean(),
    });
    expect(messages(form, { role: 'boss', n: 1.5 })).toEqual([
      'role must be one of user, manager or admin',
      'n must be a whole number',
      'ok is required',
    ]);
    expect(messages(z.object({ due: z.iso.date() }), { due: '31/12/2026' })).toEqual([
      'due must be a date written like 2026-12-31',
    ]);
    for (const message of [
      ...messages(form, { role: 1, n: 'x', ok: 'no' }),
      ...messages(z.object({ tags: z.array(z.string()).max(1) }), { tags: ['a', 'b'] }),
    ]) {
      expect(message).not.toMatch(/Too big|Too small|Invalid|expected|received|<=|>=/);
    }
  });
});

describe('safety of admin actions (pglite)', () => {
  // One app, its organisation and the OpenAPI response check (test/support/api-harness.ts).
  const h = useApi('pglite', { minValidated: 6, app: {} });

  const signIn = async (username: string) => {
    const res = await h.ctx.app.request(`${ORIGIN}/login`, {
      method: 'POST',
      headers: { host: 'portal.test', origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password: PASSWORD }).toString(),
    });
    return /portal_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1] ?? '';
  };
  const page = async (
    cookie: string,
    method: string,
    path: string,
    opts: { form?: Record<string, string>; htmx?: boolean; accept?: string } = {},
  ) => {
    const res = await h.ctx.app.request(`${ORIGIN}${path}`, {
      method,
      headers: {
        host: 'portal.test',
        origin: ORIGIN,
        cookie: `portal_session=${cookie}`,
        accept: opts.accept ?? 'text/html,application/xhtml+xml',
        ...(opts.htmx ? { 'hx-request': 'true' } : {}),
        ...(opts.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(opts.form ? { body: new URLSearchParams(opts.form).toString() } : {}),
    });
    return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
  };
  const text = (html: string) =>
    html
      .replace(/<[^>]+>/g, ' ')
      .replace(/&#39;|&#x27;/g, "'")
      .replace(/\s+/g, ' ');

  it('POST /api/users/{id}/hand-over moves every project in one step, audited with the admin as actor', async () => {
    const { db } = h.ctx.database;
    const from = await h.w.admin.api.post('/api/users', {
      username: 'leaver',
      password: PASSWORD,
      role: 'manager',
    });
    const made = await db
      .insert(projects)
      .values([1, 2, 3].map((n) => ({ name: `Leaver ${n}`, owner_id: from.body.id })))
      .returning({ id: projects.id });
    const ids = made.map((p) => p.id).sort((a, b) => a - b);

    const res = await h.w.admin.api.post(`/api/users/${from.body.id}/hand-over`, {
      owner_id: h.w.managerB.id,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ owner_id: h.w.managerB.id, project_ids: ids });
    const owners = await db
      .select({ owner: projects.owner_id })
      .from(projects)
      .where(eq(projects.owner_id, from.body.id));
    expect(owners).toEqual([]);
    // Each project's change is in the audit log, by the admin.
    const logged = await db
      .select({ row: changeLog.row_id, actor: changeLog.actor_id })
      .from(changeLog)
      .where(and(eq(changeLog.table_name, 'projects'), eq(changeLog.op, 'update')));
    for (const id of ids) expect(logged).toContainEqual({ row: id, actor: h.w.admin.id });
    // Now nothing blocks the deletion any more.
    expect((await h.w.admin.api.delete(`/api/users/${from.body.id}`)).status).toBe(204);
  });

  it('hand-over refuses with 4xx and moves nothing: not an admin, a user as new owner, oneself, unknown ids, bad bodies', async () => {
    const { db } = h.ctx.database;
    const before = await query<{ n: number }>(
      db,
      sql`select count(*)::int as n from projects where owner_id = ${h.w.managerA.id}`,
    );
    const path = `/api/users/${h.w.managerA.id}/hand-over`;
    expectErrorBody(await h.w.managerA.api.post(path, { owner_id: h.w.managerB.id }), 403);
    expectErrorBody(await h.w.userA.api.post(path, { owner_id: h.w.managerB.id }), 403);
    const toUser = await h.w.admin.api.post(path, { owner_id: h.w.userA.id });
    expectErrorBody(toUser, 422);
    expect(toUser.body.error.details).toEqual([
      { field: 'owner_id', message: 'must be an active manager or admin' },
    ]);
    const self = await h.w.admin.api.post(path, { owner_id: h.w.managerA.id });
    expectErrorBody(self, 422);
    expect(self.body.error.details[0].field).toBe('owner_id');
    expectErrorBody(await h.w.admin.api.post(path, { owner_id: 2_000_000_000 }), 422);
    expectErrorBody(
      await h.w.admin.api.post('/api/users/2000000000/hand-over', { owner_id: h.w.managerB.id }),
      404,
    );
    const wrong = await h.w.admin.api.post(path, { owner_id: 'x', extra: 1 });
    expectErrorBody(wrong, 422);
    expect(
      wrong.body.error.details.map((d: { field: string; message: string }) => `${d.field} ${d.message}`),
    ).toEqual(['owner_id must be a whole number', 'extra is not a known field']);
    expectErrorBody(await h.w.admin.api.post(path, {}), 422);
    const after = await query<{ n: number }>(
      db,
      sql`select count(*)::int as n from projects where owner_id = ${h.w.managerA.id}`,
    );
    expect(after).toEqual(before);
  });

  it('the delete confirmations count on the server what the delete will change', async () => {
    const { db } = h.ctx.database;
    const admin = await signIn(h.w.admin.username);
    const worker = await h.w.admin.api.post('/api/users', {
      username: 'worker',
      password: PASSWORD,
      role: 'user',
    });
    await db.insert(tasks).values([
      { project_id: h.w.projectA.id, title: 'open 1', assignee_id: worker.body.id },
      { project_id: h.w.projectA.id, title: 'open 2', assignee_id: worker.body.id, status: 'blocked' },
      { project_id: h.w.projectA.id, title: 'open 3', assignee_id: worker.body.id, status: 'in_progress' },
      { project_id: h.w.projectA.id, title: 'finished', assignee_id: worker.body.id, status: 'done' },
    ]);
    const dialog = await page(admin, 'GET', `/users/${worker.body.id}/delete`, { htmx: true });
    expect(dialog.status).toBe(200);
    expect(text(dialog.text)).toContain('3 open tasks (and 1 finished one) will become unassigned.');
    expect(dialog.text).toContain('data-action="Delete worker"');
    // Without JavaScript: a page with the same words and the real button.
    const full = await page(admin, 'GET', `/users/${worker.body.id}/delete`);
    expect(full.status).toBe(200);
    expect(text(full.text)).toContain('3 open tasks (and 1 finished one) will become unassigned.');
    expect(full.text).toMatch(new RegExp(`<form method="post" action="/users/${worker.body.id}/delete"`));
    // The GET changed nothing.
    expect((await h.w.admin.api.get(`/api/users/${worker.body.id}`)).status).toBe(200);

    // A manager who owns a project: blocked, with the way out named, and no delete button.
    const owner = await page(admin, 'GET', `/users/${h.w.managerA.id}/delete`, { htmx: true });
    expect(text(owner.text)).toMatch(/owns 1 project\. Hand it over to another manager or admin first/);
    expect(owner.text).toContain('data-blocked');
    expect(owner.text).not.toContain('data-action=');

    const project = await page(admin, 'GET', `/projects/${h.w.projectA.id}/delete`, { htmx: true });
    const [counted] = await query<{ all: number; open: number }>(
      db,
      sql`select count(*)::int as all, (count(*) filter (where status <> 'done'))::int as open from tasks where project_id = ${h.w.projectA.id}`,
    );
    expect(text(project.text)).toContain(
      `Its ${counted!.all} tasks will be deleted with it: ${counted!.open} open, ${counted!.all - counted!.open} done.`,
    );

    // A task's deletion without JavaScript: a page that asks, with the real button; the assignee
    // (who may not delete it) gets the 403 page.
    const taskPage = await page(admin, 'GET', `/tasks/${h.w.taskA.id}/delete`);
    expect(taskPage.status).toBe(200);
    expect(text(taskPage.text)).toContain('Delete the task “Task A”? This cannot be undone.');
    expect(taskPage.text).toMatch(new RegExp(`<form method="post" action="/tasks/${h.w.taskA.id}/delete"`));
    const assignee = await page(await signIn(h.w.userA.username), 'GET', `/tasks/${h.w.taskA.id}/delete`);
    expect(assignee.status).toBe(403);
    expect(assignee.type).toMatch(/text\/html/);
    expect(await h.w.taskExists(h.w.taskA.id)).toBe(true);

    // The delete itself says what it did.
    const done = await page(admin, 'POST', `/users/${worker.body.id}/delete`, { htmx: true, form: {} });
    expect(text(done.text)).toContain('Deleted worker; 4 tasks are now unassigned.');
  });

  it('a deactivation or a role change answers with Undo, which puts it back', async () => {
    const admin = await signIn(h.w.admin.username);
    const role = await page(admin, 'POST', `/users/${h.w.userB.id}/role`, {
      htmx: true,
      form: { role: 'manager' },
    });
    expect(text(role.text)).toContain(`${h.w.userB.username} is now manager (was user).`);
    expect(role.text).toMatch(
      new RegExp(
        `hx-post="/users/${h.w.userB.id}/role"[^>]*>\\s*<input type="hidden" name="role" value="user"`,
      ),
    );
    await page(admin, 'POST', `/users/${h.w.userB.id}/role`, { htmx: true, form: { role: 'user' } });
    expect((await h.w.admin.api.get(`/api/users/${h.w.userB.id}`)).body.role).toBe('user');

    const off = await page(admin, 'POST', `/users/${h.w.userB.id}/active`, {
      htmx: true,
      form: { active: 'false' },
    });
    expect(text(off.text)).toContain('deactivated and signed out everywhere');
    expect(off.text).toMatch(/name="active" value="true"/);
    expect(off.text).toContain('data-undo');
    await page(admin, 'POST', `/users/${h.w.userB.id}/active`, { htmx: true, form: { active: 'true' } });
    expect((await h.w.admin.api.get(`/api/users/${h.w.userB.id}`)).body.active).toBe(true);
  });

  it('pages a role may not open are HTML 403 pages with a way back; the API keeps JSON', async () => {
    const manager = await signIn(h.w.managerB.username);
    const users = await page(manager, 'GET', '/users');
    expect(users.status).toBe(403);
    expect(users.type).toMatch(/text\/html/);
    expect(text(users.text)).toContain('User management is only for admins.');
    expect(users.text).toContain('href="/dashboard"');
    const user = await signIn(h.w.userA.username);
    const audit = await page(user, 'GET', '/audit');
    expect(audit.status).toBe(403);
    expect(text(audit.text)).toContain('only for admins');
    // Another manager's project: a page for a browser, not the JSON body.
    const other = await page(manager, 'GET', `/projects/${h.w.projectA.id}/delete`);
    expect(other.status).toBe(404);
    expect(other.type).toMatch(/text\/html/);
    expect(other.text).toContain('href="/dashboard"');
    // The API answers JSON as before.
    expectErrorBody(await h.w.managerB.api.get('/api/audit'), 403);
    const api = await page(manager, 'GET', '/api/audit', { accept: 'text/html' });
    expect(api.status).toBe(403);
    expect(api.type).toMatch(/application\/json/);
  });
});
