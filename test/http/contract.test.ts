import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { client, ORIGIN } from '../support/client.js';
import { makeWorld, PASSWORD, type World } from '../support/world.js';

/** The JSON API of DESIGN §4, end to end over HTTP, on each database driver. */
describe.each(['pglite', 'pg', 'neon'] as const)('API contract on %s', (driver) => {
  let ctx: TestApp;
  let w: World;
  beforeAll(async () => {
    ctx = await startTestApp(driver, { limits: { perUsername: 3, perAddress: 100, windowSeconds: 60 } });
    w = await makeWorld(ctx);
  });
  afterAll(() => ctx?.close());

  describe('sign-in', () => {
    it('answers a token, its expiry and the user, never a password or hash', async () => {
      const res = await w.anon.post('/api/auth/login', { username: 'ursula', password: PASSWORD });
      expect(res.status).toBe(200);
      expect(res.body.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(Date.parse(res.body.expires_at)).toBeGreaterThan(Date.now());
      expect(Object.keys(res.body.user).sort()).toEqual(
        ['active', 'created_at', 'display_name', 'id', 'role', 'updated_at', 'username'].sort(),
      );
    });

    it('refuses wrong passwords and unknown users alike', async () => {
      const wrong = await w.anon.post('/api/auth/login', {
        username: 'ulrich',
        password: 'not the password',
      });
      const unknown = await w.anon.post('/api/auth/login', {
        username: 'nobody',
        password: 'not the password',
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('invalid_credentials');
      expect(unknown.body).toEqual(wrong.body);
    });

    it('throttles a username after repeated failures with 429 and Retry-After, even for the right password', async () => {
      await client(ctx).post('/api/auth/login', { username: 'mbeck', password: 'wrong password 1' });
      await client(ctx).post('/api/auth/login', { username: 'mbeck', password: 'wrong password 2' });
      await client(ctx).post('/api/auth/login', { username: 'mbeck', password: 'wrong password 3' });
      const locked = await w.anon.post('/api/auth/login', { username: 'mbeck', password: PASSWORD });
      expect(locked.status).toBe(429);
      expect(locked.body.error.code).toBe('rate_limited');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it('logout refuses that token from then on, and only that one', async () => {
      const a = await w.anon.post('/api/auth/login', { username: 'ursula', password: PASSWORD });
      const b = await w.anon.post('/api/auth/login', { username: 'ursula', password: PASSWORD });
      const first = client(ctx, a.body.token);
      expect((await first.post('/api/auth/logout')).status).toBe(204);
      const after = await first.get('/api/me');
      expect(after.status).toBe(401);
      expect(after.body.error.code).toBe('unauthenticated');
      expect((await client(ctx, b.body.token).get('/api/me')).status).toBe(200);
      // A client still holding the revoked token can sign in again and reach public routes.
      const again = await first.post('/api/auth/login', { username: 'ursula', password: PASSWORD });
      expect(again.status).toBe(200);
      expect((await first.get('/api/openapi.json')).status).toBe(200);
      expect(after.body.error.message).toMatch(/expired or was revoked/);
    });

    it('lists my sessions on every device and ends one of them', async () => {
      const other = await w.anon.post('/api/auth/login', { username: 'ursula', password: PASSWORD });
      const list = await w.userA.api.get('/api/me/sessions');
      expect(list.status).toBe(200);
      expect(list.body.items.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
      const target = list.body.items.find((s: { current: boolean }) => !s.current);
      expect((await w.userA.api.delete(`/api/me/sessions/${target.id}`)).status).toBe(204);
      const remaining = await w.userA.api.get('/api/me/sessions');
      expect(remaining.body.items.map((s: { id: string }) => s.id)).not.toContain(target.id);
      expect(other.status).toBe(200);
    });
  });

  describe('browser cookie and Origin', () => {
    const form = (fields: Record<string, string>, origin = ORIGIN) =>
      ctx.app.request(`${ORIGIN}/login`, {
        method: 'POST',
        headers: { host: 'portal.test', origin, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });

    it('signs in with the form: HttpOnly SameSite=Lax cookie, back to the page wanted', async () => {
      const res = await form({ username: 'ursula', password: PASSWORD, next: '/tasks' });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/tasks');
      const cookie = res.headers.get('set-cookie')!;
      expect(cookie).toMatch(/portal_session=/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);
      const token = /portal_session=([^;]+)/.exec(cookie)![1]!;
      const cookieApi = client(ctx);
      const me = await cookieApi.get('/api/me', { cookie: `portal_session=${token}` });
      expect(me.body.username).toBe('ursula');
      // Unsafe cookie requests need this portal's Origin, whatever the content type.
      const patch = (origin?: string) =>
        cookieApi.patch(
          `/api/tasks/${w.taskA.id}`,
          { status: 'in_progress' },
          {
            cookie: `portal_session=${token}`,
            ...(origin ? { origin } : {}),
          },
        );
      const foreign = await patch('http://evil.example');
      expect(foreign.status).toBe(403);
      expect(foreign.body.error.code).toBe('forbidden_origin');
      expect((await patch()).status).toBe(403);
      expect((await patch(ORIGIN)).status).toBe(200);
      // The same token as a bearer needs no Origin.
      expect((await client(ctx, token).patch(`/api/tasks/${w.taskA.id}`, { status: 'todo' })).status).toBe(
        200,
      );
    });

    it('refuses a sign-in form posted from another site, and never redirects off-site', async () => {
      expect((await form({ username: 'ursula', password: PASSWORD }, 'http://evil.example')).status).toBe(
        403,
      );
      const res = await form({ username: 'ursula', password: PASSWORD, next: '//evil.example/x' });
      expect(res.headers.get('location')).toBe('/dashboard');
      const bad = await form({ username: 'ursula', password: 'wrong password!' });
      expect(bad.headers.get('location')).toMatch(/^\/login\?error=invalid/);
    });
  });

  describe('users', () => {
    it('lists with search, role filter, sort and pagination', async () => {
      const res = await w.managerA.api.get('/api/users?q=U&role=user&sort=-username&limit=1&offset=0');
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(2);
      expect(res.body.items.map((u: { username: string }) => u.username)).toEqual(['ursula']);
      const page2 = await w.admin.api.get('/api/users?role=user&sort=-username&limit=1&offset=1');
      expect(page2.body.items.map((u: { username: string }) => u.username)).toEqual(['ulrich']);
    });

    it('creates, reads, updates; a taken username (any case) is 409; weak passwords 422', async () => {
      const created = await w.admin.api.post('/api/users', {
        username: 'Nina',
        password: 'a sufficiently long one',
        role: 'user',
        display_name: 'Nina N.',
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        username: 'Nina',
        role: 'user',
        active: true,
        display_name: 'Nina N.',
      });
      const taken = await w.admin.api.post('/api/users', {
        username: 'nina',
        password: 'another long password',
        role: 'user',
      });
      expect(taken.status).toBe(409);
      expect(taken.body.error.code).toBe('conflict');
      const short = await w.admin.api.post('/api/users', {
        username: 'olga',
        password: 'short',
        role: 'user',
      });
      expect(short.status).toBe(422);
      expect(short.body.error.details.map((d: { field: string }) => d.field)).toContain('password');
      const withName = await w.admin.api.post('/api/users', {
        username: 'olga',
        password: 'olga-is-my-password',
        role: 'user',
      });
      expect(withName.status).toBe(422);
      expect(withName.body.error.details[0].field).toBe('password');
      expect((await w.managerA.api.get(`/api/users/${created.body.id}`)).body.username).toBe('Nina');
      expect((await w.admin.api.get('/api/users/999999')).status).toBe(404);
      const patched = await w.admin.api.patch(`/api/users/${created.body.id}`, { display_name: 'Nina Nova' });
      expect(patched.body.display_name).toBe('Nina Nova');
    });

    it('deactivation, role change and deletion apply to the very next request', async () => {
      const user = await w.admin.api.post('/api/users', {
        username: 'tempo',
        password: 'a long password for t',
        role: 'user',
      });
      const login = await w.anon.post('/api/auth/login', {
        username: 'tempo',
        password: 'a long password for t',
      });
      const tempo = client(ctx, login.body.token);
      expect((await tempo.post('/api/projects', { name: 'Nope' })).status).toBe(403);
      await w.admin.api.patch(`/api/users/${user.body.id}`, { role: 'manager' });
      expect((await tempo.post('/api/projects', { name: 'Now allowed' })).status).toBe(201);
      // A manager who owns projects cannot be demoted or deleted until they are reassigned.
      const demote = await w.admin.api.patch(`/api/users/${user.body.id}`, { role: 'user' });
      expect(demote.status).toBe(409);
      expect((await w.admin.api.delete(`/api/users/${user.body.id}`)).status).toBe(409);
      await w.admin.api.patch(`/api/users/${user.body.id}`, { active: false });
      expect((await tempo.get('/api/me')).status).toBe(401);
      const relogin = await w.anon.post('/api/auth/login', {
        username: 'tempo',
        password: 'a long password for t',
      });
      expect(relogin.status).toBe(403);
      expect(relogin.body.error.code).toBe('account_deactivated');
      // Reactivating the account does not bring the old sign-in back.
      await w.admin.api.patch(`/api/users/${user.body.id}`, { active: true });
      expect((await tempo.get('/api/me')).status).toBe(401);
    });

    it('deleting a user leaves their tasks unassigned; admins cannot remove themselves', async () => {
      const user = await w.admin.api.post('/api/users', {
        username: 'leaver',
        password: 'a long password for l',
        role: 'user',
      });
      const task = await w.managerA.api.post('/api/tasks', {
        project_id: w.projectA.id,
        title: 'Orphan me',
        assignee_id: user.body.id,
      });
      const login = await w.anon.post('/api/auth/login', {
        username: 'leaver',
        password: 'a long password for l',
      });
      expect((await w.admin.api.delete(`/api/users/${user.body.id}`)).status).toBe(204);
      expect((await client(ctx, login.body.token).get('/api/me')).status).toBe(401);
      expect((await w.managerA.api.get(`/api/tasks/${task.body.id}`)).body.assignee_id).toBeNull();
      expect((await w.admin.api.delete(`/api/users/${w.admin.id}`)).status).toBe(409);
      expect((await w.admin.api.patch(`/api/users/${w.admin.id}`, { active: false })).status).toBe(409);
    });
  });

  describe('projects', () => {
    it('shows each role its own scope', async () => {
      const names = async (api: World['admin']['api']) =>
        (await api.get('/api/projects?sort=name')).body.items.map((p: { name: string }) => p.name);
      expect(await names(w.admin.api)).toEqual(expect.arrayContaining(['Project A', 'Project B']));
      expect(await names(w.managerA.api)).not.toContain('Project B');
      expect(await names(w.managerA.api)).toContain('Project A');
      expect(await names(w.userA.api)).toEqual(['Project A']);
      expect((await w.userA.api.get(`/api/projects/${w.projectB.id}`)).status).toBe(404);
    });

    it('a manager owns what they create; an admin may name an active manager as owner', async () => {
      const mine = await w.managerA.api.post('/api/projects', { name: 'Mine', description: 'x' });
      expect(mine.status).toBe(201);
      expect(mine.body.owner_id).toBe(w.managerA.id);
      expect(
        (await w.managerA.api.post('/api/projects', { name: 'Theirs', owner_id: w.managerB.id })).status,
      ).toBe(403);
      const assigned = await w.admin.api.post('/api/projects', { name: 'For B', owner_id: w.managerB.id });
      expect(assigned.body.owner_id).toBe(w.managerB.id);
      const toUser = await w.admin.api.post('/api/projects', { name: 'For a user', owner_id: w.userA.id });
      expect(toUser.status).toBe(422);
      expect(toUser.body.error.details[0].field).toBe('owner_id');
    });

    it('owner and admin change and delete; others get 404 or 403', async () => {
      const p = await w.managerA.api.post('/api/projects', { name: 'Short-lived' });
      expect((await w.managerB.api.patch(`/api/projects/${p.body.id}`, { name: 'x' })).status).toBe(404);
      expect((await w.managerA.api.patch(`/api/projects/${p.body.id}`, { name: 'Renamed' })).body.name).toBe(
        'Renamed',
      );
      expect((await w.userA.api.patch(`/api/projects/${w.projectA.id}`, { name: 'x' })).status).toBe(403);
      expect(
        (await w.admin.api.patch(`/api/projects/${p.body.id}`, { owner_id: w.managerB.id })).body.owner_id,
      ).toBe(w.managerB.id);
      expect((await w.managerA.api.delete(`/api/projects/${p.body.id}`)).status).toBe(404);
      expect((await w.managerB.api.delete(`/api/projects/${p.body.id}`)).status).toBe(204);
      expect((await w.admin.api.get(`/api/projects/${p.body.id}`)).status).toBe(404);
    });
  });

  describe('tasks', () => {
    it('creates with defaults; assignees may only move the status; done sets completed_at', async () => {
      const t = await w.managerA.api.post('/api/tasks', {
        project_id: w.projectA.id,
        title: 'Write the spec',
        assignee_id: w.userA.id,
        due_date: '2030-01-31',
      });
      expect(t.status).toBe(201);
      expect(t.body).toMatchObject({
        status: 'todo',
        priority: 'medium',
        due_date: '2030-01-31',
        completed_at: null,
      });
      const done = await w.userA.api.patch(`/api/tasks/${t.body.id}`, { status: 'done' });
      expect(done.status).toBe(200);
      expect(Date.parse(done.body.completed_at)).toBeGreaterThan(Date.now() - 60_000);
      expect((await w.userA.api.patch(`/api/tasks/${t.body.id}`, { title: 'Mine now' })).status).toBe(403);
      const reopened = await w.managerA.api.patch(`/api/tasks/${t.body.id}`, {
        status: 'blocked',
        priority: 'urgent',
      });
      expect(reopened.body).toMatchObject({ status: 'blocked', priority: 'urgent', completed_at: null });
      expect((await w.managerB.api.get(`/api/tasks/${t.body.id}`)).status).toBe(404);
      expect((await w.userB.api.patch(`/api/tasks/${t.body.id}`, { status: 'done' })).status).toBe(404);
      expect((await w.managerA.api.delete(`/api/tasks/${t.body.id}`)).status).toBe(204);
    });

    it('filters, searches, sorts and paginates', async () => {
      const titles = ['Alpha report', 'Beta report', 'Gamma review', 'Delta 100%_done'];
      for (const [i, title] of titles.entries()) {
        await w.managerB.api.post('/api/tasks', {
          project_id: w.projectB.id,
          title,
          priority: i % 2 ? 'high' : 'low',
          status: i === 3 ? 'done' : 'todo',
          due_date: i === 0 ? '2000-01-01' : `2031-0${i + 1}-01`,
        });
      }
      const q = async (query: string) =>
        (await w.managerB.api.get(`/api/tasks?project_id=${w.projectB.id}&${query}`)).body;
      expect((await q('q=report&sort=title')).items.map((t: { title: string }) => t.title)).toEqual([
        'Alpha report',
        'Beta report',
      ]);
      // LIKE wildcards in a search match literally.
      expect((await q('q=100%25_')).items.map((t: { title: string }) => t.title)).toEqual([
        'Delta 100%_done',
      ]);
      expect((await q('priority=high')).total).toBe(2);
      expect((await q('status=done')).total).toBe(1);
      expect((await q('overdue=true')).items.map((t: { title: string }) => t.title)).toEqual([
        'Alpha report',
      ]);
      const byDue = (await q('sort=-due_date&limit=2')).items.map((t: { due_date: string }) => t.due_date);
      expect(byDue).toEqual(['2031-04-01', '2031-03-01']);
      const page = await q('sort=title&limit=2&offset=2');
      expect(page.total).toBe(5);
      expect(page.items.map((t: { title: string }) => t.title)).toEqual(['Delta 100%_done', 'Gamma review']);
      expect((await w.managerB.api.get('/api/tasks?sort=password_hash')).status).toBe(422);
      expect((await w.userB.api.get(`/api/tasks?project_id=${w.projectB.id}`)).body.total).toBe(1);
    });
  });

  describe('metrics', () => {
    it('answers each role its own dashboard, and follows writes', async () => {
      const user = (await w.userB.api.get('/api/metrics')).body;
      expect(user.role).toBe('user');
      expect(Object.keys(user).sort()).toEqual(['completed_by_day', 'my_overdue', 'my_tasks', 'role']);
      const manager = (await w.managerB.api.get('/api/metrics')).body;
      expect(manager.role).toBe('manager');
      expect(manager.projects[w.projectB.id]).toMatchObject({ name: 'Project B' });
      expect(manager.projects[w.projectA.id]).toBeUndefined();
      const admin = (await w.admin.api.get('/api/metrics')).body;
      expect(Object.keys(admin)).toEqual(expect.arrayContaining(['projects', 'users_by_role', 'org_tasks']));

      await w.userB.api.patch(`/api/tasks/${w.taskB.id}`, { status: 'done' });
      const after = (await w.userB.api.get('/api/metrics')).body;
      expect(after.my_tasks.done).toBe(user.my_tasks.done + 1);
      const managerAfter = (await w.managerB.api.get('/api/metrics')).body;
      expect(managerAfter.team_tasks.done).toBe(manager.team_tasks.done + 1);
      expect(managerAfter.projects[w.projectB.id].done).toBe(manager.projects[w.projectB.id].done + 1);
      const adminAfter = (await w.admin.api.get('/api/metrics')).body;
      expect(adminAfter.org_tasks.done).toBe(admin.org_tasks.done + 1);
      const today = new Date().toISOString().slice(0, 10);
      expect(after.completed_by_day[today]).toBe(user.completed_by_day[today] + 1);
    });
  });

  describe('audit', () => {
    it('is for admins: newest first, with the actor, filterable and paginated', async () => {
      expect((await w.managerA.api.get('/api/audit')).status).toBe(403);
      const t = await w.managerA.api.post('/api/tasks', { project_id: w.projectA.id, title: 'Audited' });
      await w.managerA.api.patch(`/api/tasks/${t.body.id}`, { title: 'Audited twice' });
      const res = await w.admin.api.get(`/api/audit?entity=tasks&actor_id=${w.managerA.id}&limit=2`);
      expect(res.status).toBe(200);
      expect(res.body.total).toBeGreaterThanOrEqual(2);
      const [latest, previous] = res.body.items;
      expect(latest).toMatchObject({
        entity: 'tasks',
        op: 'update',
        row_id: t.body.id,
        before: { title: 'Audited' },
        after: { title: 'Audited twice' },
        actor: { id: w.managerA.id, username: 'mara' },
      });
      expect(previous).toMatchObject({ op: 'insert', row_id: t.body.id });
      expect(latest.id).toBeGreaterThan(previous.id);
    });
  });

  describe('documents and errors', () => {
    it('serves the OpenAPI document for every route, a docs page, and JSON 404s', async () => {
      const doc = await w.anon.get('/api/openapi.json');
      expect(doc.status).toBe(200);
      expect(doc.body.openapi).toMatch(/^3\./);
      for (const path of [
        '/api/auth/login',
        '/api/users/{id}',
        '/api/projects',
        '/api/tasks/{id}',
        '/api/metrics',
        '/api/audit',
      ]) {
        expect(Object.keys(doc.body.paths)).toContain(path);
      }
      const page = await w.anon.get('/api/docs');
      expect(page.status).toBe(200);
      expect(page.text).toContain('/api/tasks/{id}');
      const missing = await w.admin.api.get('/api/nothing-here');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('not_found');
      expect((await w.anon.get('/api/me')).status).toBe(401);
    });
  });
});
