import { describe, expect, it } from 'vitest';
import { DRIVERS, expectError, expectInvalid, PROJECT_KEYS, sorted, useApi } from '../support/api-harness.ts';
import type { Client } from '../support/client.ts';

/** The JSON API contract (docs/contract.md §4) for projects, on every driver. */
describe.each(DRIVERS)('projects API on %s', (driver) => {
  const h = useApi(driver, { minValidated: 3 });
  const { signIn, newUser, newTask } = h;

  describe('projects', () => {
    const names = async (api: Client) => {
      const res = await api.get('/api/projects?sort=name&limit=200');
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(res.body.total);
      return res.body.items.map((p: { name: string }) => p.name) as string[];
    };

    it('scopes lists and reads: admin all, manager owned, user those holding their tasks', async () => {
      const all = await h.w.admin.api.get('/api/projects');
      expect(sorted(Object.keys(all.body))).toEqual(['items', 'total']);
      for (const p of all.body.items) expect(sorted(Object.keys(p))).toEqual(PROJECT_KEYS);
      expect(await names(h.w.admin.api)).toEqual(expect.arrayContaining(['Project A', 'Project B']));

      const mine = await h.w.managerA.api.get('/api/projects?limit=200');
      expect(mine.body.items.every((p: { owner_id: number }) => p.owner_id === h.w.managerA.id)).toBe(true);
      expect(await names(h.w.managerA.api)).toContain('Project A');
      expect(await names(h.w.managerA.api)).not.toContain('Project B');
      expectError(await h.w.managerA.api.get(`/api/projects/${h.w.projectB.id}`), 404, 'not_found');
      const a = await h.w.managerA.api.get(`/api/projects/${h.w.projectA.id}`);
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ id: h.w.projectA.id, name: 'Project A', owner_id: h.w.managerA.id });

      // A user sees exactly the projects holding tasks assigned to them, as that changes.
      const scoped = await newUser('scoped', 'user');
      const api = await signIn('scoped');
      expect((await api.get('/api/projects')).body).toEqual({ items: [], total: 0 });
      expectError(await api.get(`/api/projects/${h.w.projectB.id}`), 404, 'not_found');
      const t = await newTask(h.w.managerB.api, {
        project_id: h.w.projectB.id,
        title: 'For scoped',
        assignee_id: scoped.id,
      });
      expect(await names(api)).toEqual(['Project B']);
      expect((await api.get(`/api/projects/${h.w.projectB.id}`)).body.name).toBe('Project B');
      expectError(await api.get(`/api/projects/${h.w.projectA.id}`), 404, 'not_found');
      await h.w.managerB.api.patch(`/api/tasks/${t.id}`, { assignee_id: null });
      expect((await api.get('/api/projects')).body.total).toBe(0);
      expectError(await api.get(`/api/projects/${h.w.projectB.id}`), 404, 'not_found');

      expect(await names(h.w.userA.api)).toContain('Project A');
      expect(await names(h.w.userA.api)).not.toContain('Project B');
      expectError(await h.w.admin.api.get('/api/projects/999999'), 404, 'not_found');
    });

    it('creates: a manager owns what they create; an admin may name a manager as owner, not a user', async () => {
      const mine = await h.w.managerA.api.post('/api/projects', { name: 'Mara’s own', description: 'Hers' });
      expect(mine.status).toBe(201);
      expect(sorted(Object.keys(mine.body))).toEqual(PROJECT_KEYS);
      expect(mine.body).toMatchObject({ name: 'Mara’s own', description: 'Hers', owner_id: h.w.managerA.id });
      const bare = await h.w.managerA.api.post('/api/projects', { name: 'No description' });
      expect(bare.body.description).toBe('');
      expectError(
        await h.w.managerA.api.post('/api/projects', { name: 'For B', owner_id: h.w.managerB.id }),
        403,
        'forbidden',
      );
      expect(await names(h.w.managerB.api)).not.toContain('For B');

      const forB = await h.w.admin.api.post('/api/projects', {
        name: 'Given to B',
        owner_id: h.w.managerB.id,
      });
      expect(forB.status).toBe(201);
      expect(forB.body.owner_id).toBe(h.w.managerB.id);
      expect(await names(h.w.managerB.api)).toContain('Given to B');
      const own = await h.w.admin.api.post('/api/projects', { name: 'Admin’s own' });
      expect(own.body.owner_id).toBe(h.w.admin.id);

      expectInvalid(
        await h.w.admin.api.post('/api/projects', { name: 'For a user', owner_id: h.w.userA.id }),
        'owner_id',
      );
      expectInvalid(
        await h.w.admin.api.post('/api/projects', { name: 'For nobody', owner_id: 999999 }),
        'owner_id',
      );
      expect(await names(h.w.admin.api)).not.toContain('For a user');
      expectError(await h.w.userA.api.post('/api/projects', { name: 'Nope' }), 403, 'forbidden');
      expectInvalid(await h.w.managerA.api.post('/api/projects', { name: '' }), 'name');
      expectInvalid(await h.w.managerA.api.post('/api/projects', { name: 'x'.repeat(201) }), 'name');
      expectInvalid(
        await h.w.managerA.api.post('/api/projects', { name: 'Long', description: 'd'.repeat(10_001) }),
        'description',
      );
      expect(
        (
          await h.w.managerA.api.post('/api/projects', {
            name: 'y'.repeat(200),
            description: 'd'.repeat(10_000),
          })
        ).status,
      ).toBe(201);
    });

    it('PATCH and DELETE by the owner and admins; another manager 404; a user who can see it 403', async () => {
      const p = await h.w.managerA.api.post('/api/projects', { name: 'Short-lived' });
      const url = `/api/projects/${p.body.id}`;
      expectError(await h.w.managerB.api.get(url), 404, 'not_found');
      expectError(await h.w.managerB.api.patch(url, { name: 'Stolen' }), 404, 'not_found');
      expectError(await h.w.managerB.api.delete(url), 404, 'not_found');

      const renamed = await h.w.managerA.api.patch(url, { name: 'Renamed', description: 'Now described' });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id: p.body.id, name: 'Renamed', description: 'Now described' });
      expect(Date.parse(renamed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(p.body.updated_at));
      const byAdmin = await h.w.admin.api.patch(url, { description: 'Admin was here' });
      expect(byAdmin.status).toBe(200);
      expect(byAdmin.body).toMatchObject({ name: 'Renamed', description: 'Admin was here' });
      expectInvalid(await h.w.managerA.api.patch(url, { name: '' }), 'name');
      expectError(await h.w.managerA.api.patch(url, {}), 422, 'validation_failed');
      // Only admins hand a project over.
      expectError(await h.w.managerA.api.patch(url, { owner_id: h.w.managerB.id }), 403, 'forbidden');

      // A user who sees the project (a task of theirs is in it) may read it, not change it.
      await newTask(h.w.managerA.api, { project_id: p.body.id, title: 'Visible', assignee_id: h.w.userA.id });
      expect((await h.w.userA.api.get(url)).status).toBe(200);
      expectError(await h.w.userA.api.patch(url, { name: 'Mine now' }), 403, 'forbidden');
      expectError(await h.w.userA.api.delete(url), 403, 'forbidden');
      expect((await h.w.admin.api.get(url)).body.name).toBe('Renamed');

      const deleted = await h.w.managerA.api.delete(url);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      expectError(await h.w.admin.api.get(url), 404, 'not_found');
      expectError(await h.w.managerA.api.delete(url), 404, 'not_found');
      // Its tasks went with it.
      expect((await h.w.admin.api.get(`/api/tasks?project_id=${p.body.id}`)).body.total).toBe(0);

      // An admin deletes anyone's project.
      const q = await h.w.managerB.api.post('/api/projects', { name: 'B’s short-lived' });
      expect((await h.w.admin.api.delete(`/api/projects/${q.body.id}`)).status).toBe(204);
      expectError(await h.w.managerB.api.get(`/api/projects/${q.body.id}`), 404, 'not_found');
    });
  });
});
