import { describe, expect, it } from 'vitest';
import {
  DRIVERS,
  expectError,
  expectInvalid,
  ISO_INSTANT,
  SECRET,
  sorted,
  USER_KEYS,
  useApi,
} from '../support/api-harness.ts';
import type { Reply } from '../support/client.ts';

/** The JSON API contract (docs/contract.md §4) for users, on every driver. */
describe.each(DRIVERS)('users API on %s', (driver) => {
  const h = useApi(driver, { minValidated: 5 });
  const { login, signIn, newUser, newTask } = h;

  describe('users', () => {
    it('lists {items, total} with q, role, sort, limit and offset, for admins and managers only', async () => {
      await newUser('zed-alpha', 'user', 'Zelda Quux');
      await newUser('zed-beta', 'manager');
      await newUser('zed-gamma', 'user');
      const all = await h.w.admin.api.get('/api/users');
      expect(all.status).toBe(200);
      expect(sorted(Object.keys(all.body))).toEqual(['items', 'total']);
      expect(all.body.total).toBeGreaterThanOrEqual(8);
      expect(all.body.items).toHaveLength(all.body.total);
      for (const user of all.body.items) expect(sorted(Object.keys(user))).toEqual(USER_KEYS);
      expect(all.text).not.toMatch(/password|hash|argon/i);

      const names = (res: Reply) => res.body.items.map((u: { username: string }) => u.username);
      const zed = await h.w.admin.api.get('/api/users?q=ZED&sort=username');
      expect(zed.body.total).toBe(3);
      expect(names(zed)).toEqual(['zed-alpha', 'zed-beta', 'zed-gamma']);
      // q searches display names too.
      expect(names(await h.w.admin.api.get('/api/users?q=quux'))).toEqual(['zed-alpha']);
      const users = await h.w.admin.api.get('/api/users?q=zed&role=user&sort=-username');
      expect(names(users)).toEqual(['zed-gamma', 'zed-alpha']);
      expect(users.body.total).toBe(2);
      const page = await h.w.admin.api.get('/api/users?q=zed&role=user&sort=-username&limit=1&offset=1');
      expect(names(page)).toEqual(['zed-alpha']);
      expect(page.body.total).toBe(2);
      const beyond = await h.w.admin.api.get('/api/users?q=zed&limit=5&offset=3');
      expect(beyond.body).toEqual({ items: [], total: 3 });
      const roles = await h.w.admin.api.get('/api/users?role=manager');
      expect(roles.body.items.every((u: { role: string }) => u.role === 'manager')).toBe(true);
      expect(names(roles)).toEqual(expect.arrayContaining(['mara', 'mbeck', 'zed-beta']));

      // Managers read (to pick assignees); users may not.
      const byManager = await h.w.managerA.api.get('/api/users?q=zed&sort=username');
      expect(byManager.status).toBe(200);
      expect(byManager.body).toEqual(zed.body);
      expectError(await h.w.userA.api.get('/api/users'), 403, 'forbidden');

      expectInvalid(await h.w.admin.api.get('/api/users?limit=201'), 'limit');
      expectInvalid(await h.w.admin.api.get('/api/users?limit=0'), 'limit');
      expectInvalid(await h.w.admin.api.get('/api/users?offset=-1'), 'offset');
      expectInvalid(await h.w.admin.api.get('/api/users?role=boss'), 'role');
      expectInvalid(await h.w.admin.api.get('/api/users?sort=password_hash'), 'sort');
    });

    it('creates (201), reads (200/404) and patches users; only admins write', async () => {
      const created = await h.w.admin.api.post('/api/users', {
        username: 'Nina.N',
        password: SECRET,
        role: 'user',
        display_name: 'Nina Nova',
      });
      expect(created.status).toBe(201);
      expect(sorted(Object.keys(created.body))).toEqual(USER_KEYS);
      expect(created.body).toMatchObject({
        username: 'Nina.N',
        display_name: 'Nina Nova',
        role: 'user',
        active: true,
      });
      expect(created.body.created_at).toMatch(ISO_INSTANT);
      const id = created.body.id;

      const read = await h.w.managerA.api.get(`/api/users/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
      expectError(await h.w.admin.api.get('/api/users/999999'), 404, 'not_found');
      expectError(await h.w.userA.api.get(`/api/users/${id}`), 403, 'forbidden');

      const patched = await h.w.admin.api.patch(`/api/users/${id}`, { display_name: 'Nina N.' });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ id, display_name: 'Nina N.', role: 'user', active: true });
      expect(sorted(Object.keys(patched.body))).toEqual(USER_KEYS);
      expect((await h.w.admin.api.get(`/api/users/${id}`)).body.display_name).toBe('Nina N.');
      expectError(await h.w.admin.api.patch('/api/users/999999', { display_name: 'x' }), 404, 'not_found');
      expectError(await h.w.admin.api.patch(`/api/users/${id}`, {}), 422, 'validation_failed');
      expectInvalid(await h.w.admin.api.patch(`/api/users/${id}`, { role: 'boss' }), 'role');
      expectInvalid(await h.w.admin.api.patch(`/api/users/${id}`, { password_hash: 'x' }), 'password_hash');

      // A new password: the old one and the sessions signed in with it stop working.
      const nina = await signIn('Nina.N');
      const reset = await h.w.admin.api.patch(`/api/users/${id}`, { password: 'another fine passphrase' });
      expect(reset.status).toBe(200);
      expect(reset.text).not.toMatch(/password|hash/i);
      expectError(await nina.get('/api/me'), 401, 'unauthenticated');
      expectError(await login('Nina.N', SECRET), 401, 'invalid_credentials');
      expect((await login('nina.n', 'another fine passphrase')).status).toBe(200);

      // Only admins write.
      expectError(
        await h.w.managerA.api.post('/api/users', { username: 'by-mgr', password: SECRET, role: 'user' }),
        403,
        'forbidden',
      );
      expectError(await h.w.managerA.api.patch(`/api/users/${id}`, { display_name: 'x' }), 403, 'forbidden');
      expectError(await h.w.managerA.api.delete(`/api/users/${id}`), 403, 'forbidden');
      expectError(
        await h.w.userA.api.patch(`/api/users/${h.w.userA.id}`, { role: 'admin' }),
        403,
        'forbidden',
      );
      expect((await h.w.userA.api.get('/api/me')).body.role).toBe('user');
    });

    it('409 conflict on a taken username in any case; 422 naming `password` for weak passwords', async () => {
      await newUser('Casey', 'user');
      for (const username of ['casey', 'CASEY', 'Casey']) {
        const taken = await h.w.admin.api.post('/api/users', { username, password: SECRET, role: 'user' });
        expectError(taken, 409, 'conflict');
      }
      const short = await h.w.admin.api.post('/api/users', {
        username: 'olga',
        password: 'elevenchars',
        role: 'user',
      });
      expectInvalid(short, 'password');
      const withName = await h.w.admin.api.post('/api/users', {
        username: 'olga',
        password: 'my name is OLGA, ok?',
        role: 'user',
      });
      expectInvalid(withName, 'password');
      expect(withName.body.error.details.map((d: { field: string }) => d.field)).toEqual(['password']);
      // Nothing was created by the refused requests.
      expect((await h.w.admin.api.get('/api/users?q=olga')).body.total).toBe(0);
      expectInvalid(
        await h.w.admin.api.post('/api/users', { username: 'x', password: SECRET, role: 'root', extra: 1 }),
        'username',
        'role',
        'extra',
      );
      expectInvalid(await h.w.admin.api.post('/api/users', { username: 'olga', password: SECRET }), 'role');
      const twelve = await h.w.admin.api.post('/api/users', {
        username: 'olga',
        password: 'twelve chars',
        role: 'user',
      });
      expect(twelve.status).toBe(201);
      // The same rule when an admin resets a password.
      expectInvalid(
        await h.w.admin.api.patch(`/api/users/${twelve.body.id}`, { password: 'short' }),
        'password',
      );
      expectInvalid(
        await h.w.admin.api.patch(`/api/users/${twelve.body.id}`, { password: 'hello olga hello' }),
        'password',
      );
    });

    it('DELETE answers 204 and leaves their tasks unassigned; 404 afterwards', async () => {
      const leaver = await newUser('leaver', 'user');
      const t1 = await newTask(h.w.managerA.api, {
        project_id: h.w.projectA.id,
        title: 'Orphan one',
        assignee_id: leaver.id,
      });
      const t2 = await newTask(h.w.managerB.api, {
        project_id: h.w.projectB.id,
        title: 'Orphan two',
        assignee_id: leaver.id,
      });
      const del = await h.w.admin.api.delete(`/api/users/${leaver.id}`);
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      const a = await h.w.managerA.api.get(`/api/tasks/${t1.id}`);
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ id: t1.id, assignee_id: null, title: 'Orphan one' });
      expect((await h.w.managerB.api.get(`/api/tasks/${t2.id}`)).body.assignee_id).toBeNull();
      expect((await h.w.admin.api.get(`/api/tasks?assignee_id=${leaver.id}`)).body).toEqual({
        items: [],
        total: 0,
      });
      expectError(await h.w.admin.api.get(`/api/users/${leaver.id}`), 404, 'not_found');
      expectError(await h.w.admin.api.delete(`/api/users/${leaver.id}`), 404, 'not_found');
      // Other people's tasks are untouched.
      expect((await h.w.admin.api.get(`/api/tasks/${h.w.taskA.id}`)).body.assignee_id).toBe(h.w.userA.id);
    });

    it('DELETE or demotion of a user who owns projects is 409; an admin cannot delete, deactivate or demote themself', async () => {
      const del = await h.w.admin.api.delete(`/api/users/${h.w.managerA.id}`);
      expectError(del, 409, 'conflict');
      expect((await h.w.admin.api.get(`/api/users/${h.w.managerA.id}`)).status).toBe(200);
      expect((await h.w.admin.api.get(`/api/projects/${h.w.projectA.id}`)).body.owner_id).toBe(
        h.w.managerA.id,
      );
      expectError(
        await h.w.admin.api.patch(`/api/users/${h.w.managerB.id}`, { role: 'user' }),
        409,
        'conflict',
      );
      expect((await h.w.managerB.api.get('/api/me')).body.role).toBe('manager');

      expectError(await h.w.admin.api.delete(`/api/users/${h.w.admin.id}`), 409, 'conflict');
      expectError(
        await h.w.admin.api.patch(`/api/users/${h.w.admin.id}`, { active: false }),
        409,
        'conflict',
      );
      expectError(await h.w.admin.api.patch(`/api/users/${h.w.admin.id}`, { role: 'user' }), 409, 'conflict');
      const me = await h.w.admin.api.get('/api/me');
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ role: 'admin', active: true });
    });
  });
});
