import { describe, expect, it } from 'vitest';
import { DRIVERS, ids, STATUS_KEYS, sorted, useApi } from '../support/api-harness.ts';
import type { Client, Reply } from '../support/client.ts';

/** The JSON API contract (docs/contract.md §4) for dashboard metrics, on every driver. */
describe.each(DRIVERS)('dashboard metrics API on %s', (driver) => {
  const h = useApi(driver, { minValidated: 3 });
  const { newUser, newTask } = h;

  describe('metrics', () => {
    const metrics = async (api: Client) => {
      const res = await api.get('/api/metrics');
      expect(res.status).toBe(200);
      return res.body;
    };
    const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

    it('answers each role its dashboard document, consistent with the lists', async () => {
      const user = await metrics(h.w.userA.api);
      expect(user.role).toBe('user');
      expect(sorted(Object.keys(user.my_tasks))).toEqual(STATUS_KEYS);
      expect(typeof user.my_overdue).toBe('number');
      for (const key of ['team_tasks', 'projects', 'users_by_role', 'org_tasks'])
        expect(user).not.toHaveProperty(key);
      expect(sum(user.my_tasks)).toBe((await h.w.userA.api.get('/api/tasks')).body.total);

      const manager = await metrics(h.w.managerA.api);
      expect(manager.role).toBe('manager');
      expect(sorted(Object.keys(manager.my_tasks))).toEqual(STATUS_KEYS);
      expect(sorted(Object.keys(manager.team_tasks))).toEqual(STATUS_KEYS);
      for (const key of ['users_by_role', 'org_tasks']) expect(manager).not.toHaveProperty(key);
      const owned = (await h.w.managerA.api.get('/api/projects?limit=200')).body;
      expect(sorted(Object.keys(manager.projects))).toEqual(
        sorted(ids({ body: owned } as Reply).map(String)),
      );
      expect(manager.projects[h.w.projectB.id]).toBeUndefined();
      const a = manager.projects[h.w.projectA.id];
      expect(sorted(Object.keys(a))).toEqual(['done', 'name', 'total']);
      expect(a.name).toBe('Project A');
      expect(a.total).toBe(
        (await h.w.managerA.api.get(`/api/tasks?project_id=${h.w.projectA.id}`)).body.total,
      );
      expect(a.done).toBe(
        (await h.w.managerA.api.get(`/api/tasks?project_id=${h.w.projectA.id}&status=done`)).body.total,
      );
      expect(sum(manager.team_tasks)).toBe(
        Object.values(manager.projects as Record<string, { total: number }>).reduce((n, p) => n + p.total, 0),
      );

      const admin = await metrics(h.w.admin.api);
      expect(admin.role).toBe('admin');
      expect(admin).not.toHaveProperty('team_tasks');
      expect(sorted(Object.keys(admin.org_tasks))).toEqual(STATUS_KEYS);
      expect(sorted(Object.keys(admin.users_by_role))).toEqual(['admin', 'manager', 'user']);
      expect(admin.projects[h.w.projectA.id]).toEqual(a);
      expect(admin.projects[h.w.projectB.id]).toMatchObject({ name: 'Project B' });
      expect(Object.keys(admin.projects)).toHaveLength((await h.w.admin.api.get('/api/projects')).body.total);
      expect(sum(admin.org_tasks)).toBe((await h.w.admin.api.get('/api/tasks')).body.total);
      expect(admin.org_tasks.done).toBe((await h.w.admin.api.get('/api/tasks?status=done')).body.total);
      expect(admin.users_by_role.manager).toBe(
        (await h.w.admin.api.get('/api/users?role=manager&active=true')).body.total,
      );
      expect(sum(admin.users_by_role)).toBe((await h.w.admin.api.get('/api/users?active=true')).body.total);
    });

    it('follows task writes: marking taskA done moves every dashboard that counts it', async () => {
      await h.w.admin.api.patch(`/api/tasks/${h.w.taskA.id}`, { status: 'todo' });
      const [user, manager, admin, otherUser, otherManager] = await Promise.all(
        [h.w.userA, h.w.managerA, h.w.admin, h.w.userB, h.w.managerB].map((p) => metrics(p.api)),
      );
      const done = await h.w.userA.api.patch(`/api/tasks/${h.w.taskA.id}`, { status: 'done' });
      expect(done.status).toBe(200);

      const userAfter = await metrics(h.w.userA.api);
      expect(userAfter.my_tasks.done).toBe(user.my_tasks.done + 1);
      expect(userAfter.my_tasks.todo).toBe(user.my_tasks.todo - 1);
      const managerAfter = await metrics(h.w.managerA.api);
      expect(managerAfter.team_tasks.done).toBe(manager.team_tasks.done + 1);
      expect(managerAfter.team_tasks.todo).toBe(manager.team_tasks.todo - 1);
      expect(managerAfter.projects[h.w.projectA.id]).toEqual({
        ...manager.projects[h.w.projectA.id],
        done: manager.projects[h.w.projectA.id].done + 1,
      });
      const adminAfter = await metrics(h.w.admin.api);
      expect(adminAfter.org_tasks.done).toBe(admin.org_tasks.done + 1);
      expect(adminAfter.org_tasks.todo).toBe(admin.org_tasks.todo - 1);
      expect(adminAfter.projects[h.w.projectA.id].done).toBe(admin.projects[h.w.projectA.id].done + 1);
      // Nobody else's numbers moved.
      expect((await metrics(h.w.userB.api)).my_tasks).toEqual(otherUser.my_tasks);
      expect((await metrics(h.w.managerB.api)).team_tasks).toEqual(otherManager.team_tasks);

      // An overdue task assigned to userA counts in my_overdue until it is done.
      const late = await newTask(h.w.managerA.api, {
        project_id: h.w.projectA.id,
        title: 'Late',
        assignee_id: h.w.userA.id,
        due_date: '2001-01-01',
      });
      expect((await metrics(h.w.userA.api)).my_overdue).toBe(user.my_overdue + 1);
      await h.w.userA.api.patch(`/api/tasks/${late.id}`, { status: 'done' });
      expect((await metrics(h.w.userA.api)).my_overdue).toBe(user.my_overdue);
    });

    it('follows user writes: users_by_role counts active users', async () => {
      const before = (await metrics(h.w.admin.api)).users_by_role;
      const m = await newUser('counted', 'manager');
      expect((await metrics(h.w.admin.api)).users_by_role).toEqual({
        ...before,
        manager: before.manager + 1,
      });
      await h.w.admin.api.patch(`/api/users/${m.id}`, { active: false });
      expect((await metrics(h.w.admin.api)).users_by_role).toEqual(before);
    });
  });
});
