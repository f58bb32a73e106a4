import { describe, expect, it } from 'vitest';
import { tasks as tasksTable } from '../../src/db/schema/tasks.ts';
import {
  DRIVERS,
  expectError,
  expectInvalid,
  ISO_INSTANT,
  ids,
  sorted,
  TASK_KEYS,
  titles,
  useApi,
} from '../support/api-harness.ts';

/** The JSON API contract (docs/contract.md §4) for tasks, on every driver. */
describe.each(DRIVERS)('tasks API on %s', (driver) => {
  const h = useApi(driver, { minValidated: 6 });
  const { newTask } = h;

  describe('tasks', () => {
    it('creates with defaults (todo, medium) and validates every field', async () => {
      const t = await h.w.managerA.api.post('/api/tasks', { project_id: h.w.projectA.id, title: 'Plain' });
      expect(t.status).toBe(201);
      expect(sorted(Object.keys(t.body))).toEqual(TASK_KEYS);
      expect(t.body).toMatchObject({
        project_id: h.w.projectA.id,
        title: 'Plain',
        status: 'todo',
        priority: 'medium',
        assignee_id: null,
        due_date: null,
        completed_at: null,
      });
      expect(t.body.created_at).toMatch(ISO_INSTANT);
      const read = await h.w.managerA.api.get(`/api/tasks/${t.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(t.body);

      const full = await h.w.admin.api.post('/api/tasks', {
        project_id: h.w.projectA.id,
        title: 'Full',
        assignee_id: h.w.userA.id,
        status: 'blocked',
        priority: 'urgent',
        due_date: '2031-12-31',
      });
      expect(full.status).toBe(201);
      expect(full.body).toMatchObject({
        assignee_id: h.w.userA.id,
        status: 'blocked',
        priority: 'urgent',
        due_date: '2031-12-31',
        completed_at: null,
      });

      expectInvalid(
        await h.w.managerA.api.post('/api/tasks', {
          project_id: h.w.projectA.id,
          title: '',
          status: 'finished',
          priority: 'whenever',
          due_date: '31/12/2031',
        }),
        'title',
        'status',
        'priority',
        'due_date',
      );
      expectInvalid(await h.w.managerA.api.post('/api/tasks', { title: 'No project' }), 'project_id');
      expectInvalid(
        await h.w.managerA.api.post('/api/tasks', { project_id: h.w.projectA.id, title: 't'.repeat(201) }),
        'title',
      );
      expectInvalid(
        await h.w.managerA.api.post('/api/tasks', { project_id: h.w.projectA.id, title: 'x', owner: 1 }),
        'owner',
      );
      expectInvalid(
        await h.w.managerA.api.post('/api/tasks', {
          project_id: h.w.projectA.id,
          title: 'To nobody',
          assignee_id: 999999,
        }),
        'assignee_id',
      );
      // Nothing was created by the refused requests.
      expect(
        (await h.w.managerA.api.get(`/api/tasks?project_id=${h.w.projectA.id}&q=nobody`)).body.total,
      ).toBe(0);
      // Only the owner and admins create tasks in a project; others see 403 or 404.
      expectError(
        await h.w.userA.api.post('/api/tasks', { project_id: h.w.projectA.id, title: 'By a user' }),
        403,
        'forbidden',
      );
      expectError(
        await h.w.managerB.api.post('/api/tasks', { project_id: h.w.projectA.id, title: 'By B' }),
        404,
        'not_found',
      );
    });

    it('filters by project_id, assignee_id, status, priority, q and overdue; sorts by a whitelist; paginates', async () => {
      const lab = await h.w.managerB.api.post('/api/projects', { name: 'Filter lab' });
      const pid = lab.body.id;
      const specs = [
        {
          title: 'Alpha report',
          priority: 'low',
          status: 'todo',
          due_date: '2000-01-01',
          assignee_id: h.w.userB.id,
        },
        { title: 'Beta report', priority: 'high', status: 'in_progress', due_date: '2031-02-01' },
        { title: 'Gamma review', priority: 'high', status: 'blocked', assignee_id: h.w.userB.id },
        {
          title: 'Delta report',
          priority: 'urgent',
          status: 'done',
          due_date: '2000-01-02',
          assignee_id: h.w.userB.id,
        },
      ];
      for (const spec of specs) await newTask(h.w.managerB.api, { project_id: pid, ...spec });
      const q = (query: string, api = h.w.managerB.api) => api.get(`/api/tasks?project_id=${pid}&${query}`);

      const all = await q('sort=title');
      expect(all.status).toBe(200);
      expect(sorted(Object.keys(all.body))).toEqual(['items', 'total']);
      expect(all.body.total).toBe(4);
      for (const t of all.body.items) expect(sorted(Object.keys(t))).toEqual(TASK_KEYS);
      expect(titles(all)).toEqual(['Alpha report', 'Beta report', 'Delta report', 'Gamma review']);
      expect(titles(await q('sort=-title'))).toEqual([
        'Gamma review',
        'Delta report',
        'Beta report',
        'Alpha report',
      ]);
      // Tasks without a due date come last either way.
      expect(titles(await q('sort=-due_date'))).toEqual([
        'Beta report',
        'Delta report',
        'Alpha report',
        'Gamma review',
      ]);
      expect(titles(await q('sort=due_date'))).toEqual([
        'Alpha report',
        'Delta report',
        'Beta report',
        'Gamma review',
      ]);

      expect(titles(await q(`assignee_id=${h.w.userB.id}&sort=title`))).toEqual([
        'Alpha report',
        'Delta report',
        'Gamma review',
      ]);
      expect(titles(await q('status=blocked'))).toEqual(['Gamma review']);
      expect(titles(await q('priority=high&sort=title'))).toEqual(['Beta report', 'Gamma review']);
      expect(titles(await q('q=REPORT&sort=title'))).toEqual(['Alpha report', 'Beta report', 'Delta report']);
      // Overdue: past due and not done.
      const overdue = await q('overdue=true');
      expect(titles(overdue)).toEqual(['Alpha report']);
      expect(overdue.body.total).toBe(1);
      expect(titles(await q('overdue=false&sort=title'))).toEqual([
        'Beta report',
        'Delta report',
        'Gamma review',
      ]);
      // overdue=false must not widen the caller's scope (tasks without a due date elsewhere).
      const notOverdue = await h.w.userA.api.get('/api/tasks?overdue=false&limit=200');
      expect(
        notOverdue.body.items.every((t: { assignee_id: number }) => t.assignee_id === h.w.userA.id),
      ).toBe(true);
      expect(notOverdue.body.total).toBe(notOverdue.body.items.length);
      expect(titles(await q(`assignee_id=${h.w.userB.id}&priority=high`))).toEqual(['Gamma review']);
      expect((await q('status=done&priority=low')).body).toEqual({ items: [], total: 0 });

      // Pagination: limit, offset, and the total of every match.
      const first = await q('sort=title&limit=2');
      expect(titles(first)).toEqual(['Alpha report', 'Beta report']);
      expect(first.body.total).toBe(4);
      const second = await q('sort=title&limit=2&offset=2');
      expect(titles(second)).toEqual(['Delta report', 'Gamma review']);
      expect(second.body.total).toBe(4);
      expect((await q('sort=title&limit=2&offset=4')).body).toEqual({ items: [], total: 4 });

      // Scope still applies under filters: a user sees only their own, another manager nothing.
      expect(titles(await q('sort=title', h.w.userB.api))).toEqual([
        'Alpha report',
        'Delta report',
        'Gamma review',
      ]);
      expect((await q('sort=title', h.w.userA.api)).body).toEqual({ items: [], total: 0 });
      expect((await q('sort=title', h.w.managerA.api)).body).toEqual({ items: [], total: 0 });

      expectInvalid(await q('sort=password_hash'), 'sort');
      expectInvalid(await q('sort=-assignee'), 'sort');
      expectInvalid(await q('status=finished'), 'status');
      expectInvalid(await q('priority=whenever'), 'priority');
      expectInvalid(await q('limit=201'), 'limit');
      expectInvalid(await q('limit=0'), 'limit');
      expectInvalid(await q('overdue=maybe'), 'overdue');
      expectInvalid(await h.w.managerB.api.get('/api/tasks?project_id=abc'), 'project_id');
    });

    it('pages by 50 by default and 200 at most', async () => {
      const bulk = await h.w.managerB.api.post('/api/projects', { name: 'Bulk' });
      await h.ctx.database.db
        .insert(tasksTable)
        .values(Array.from({ length: 55 }, (_, i) => ({ project_id: bulk.body.id, title: `Bulk ${i}` })));
      const base = `/api/tasks?project_id=${bulk.body.id}`;
      const first = await h.w.managerB.api.get(base);
      expect(first.body.items).toHaveLength(50);
      expect(first.body.total).toBe(55);
      const rest = await h.w.managerB.api.get(`${base}&offset=50`);
      expect(rest.body.items).toHaveLength(5);
      expect(new Set([...ids(first), ...ids(rest)]).size).toBe(55);
      expect((await h.w.managerB.api.get(`${base}&limit=200`)).body.items).toHaveLength(55);
    });

    it('the assignee may change the status only; done sets completed_at and leaving done clears it', async () => {
      const t = await newTask(h.w.managerA.api, {
        project_id: h.w.projectA.id,
        title: 'Assigned work',
        assignee_id: h.w.userA.id,
      });
      const url = `/api/tasks/${t.id}`;
      const moving = await h.w.userA.api.patch(url, { status: 'in_progress' });
      expect(moving.status).toBe(200);
      expect(moving.body).toMatchObject({ status: 'in_progress', completed_at: null });
      for (const body of [
        { title: 'Mine now' },
        { status: 'done', priority: 'urgent' },
        { assignee_id: null },
        { due_date: '2040-01-01' },
      ]) {
        expectError(await h.w.userA.api.patch(url, body), 403, 'forbidden');
      }
      expectError(await h.w.userA.api.delete(url), 403, 'forbidden');
      expect((await h.w.userA.api.get(url)).body).toMatchObject({
        title: 'Assigned work',
        status: 'in_progress',
        priority: 'medium',
        assignee_id: h.w.userA.id,
      });

      const before = Date.now();
      const done = await h.w.userA.api.patch(url, { status: 'done' });
      expect(done.status).toBe(200);
      expect(done.body.status).toBe('done');
      expect(done.body.completed_at).toMatch(ISO_INSTANT);
      const completed = Date.parse(done.body.completed_at);
      expect(completed).toBeGreaterThan(before - 5_000);
      expect(completed).toBeLessThanOrEqual(Date.now() + 5_000);
      // Other changes to a done task keep its completion time.
      const touched = await h.w.managerA.api.patch(url, { priority: 'low' });
      expect(touched.body).toMatchObject({ priority: 'low', completed_at: done.body.completed_at });
      const reopened = await h.w.userA.api.patch(url, { status: 'blocked' });
      expect(reopened.status).toBe(200);
      expect(reopened.body).toMatchObject({ status: 'blocked', completed_at: null });
      expect((await h.w.managerA.api.get(url)).body.completed_at).toBeNull();
      // A task created done is completed at once.
      const born = await newTask(h.w.managerA.api, {
        project_id: h.w.projectA.id,
        title: 'Born done',
        status: 'done',
      });
      expect(born.completed_at).toMatch(ISO_INSTANT);

      // The owner changes any field.
      const edited = await h.w.managerA.api.patch(url, {
        title: 'Edited',
        priority: 'high',
        assignee_id: null,
        due_date: '2032-03-04',
      });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({
        title: 'Edited',
        priority: 'high',
        assignee_id: null,
        due_date: '2032-03-04',
      });
      // No longer assigned, the user no longer sees it.
      expectError(await h.w.userA.api.get(url), 404, 'not_found');
      expectError(await h.w.userA.api.patch(url, { status: 'done' }), 404, 'not_found');
    });

    it('a manager of another project gets 404 on read, change, delete and move', async () => {
      const url = `/api/tasks/${h.w.taskA.id}`;
      expectError(await h.w.managerB.api.get(url), 404, 'not_found');
      expectError(await h.w.managerB.api.patch(url, { title: 'Hijacked' }), 404, 'not_found');
      expectError(await h.w.managerB.api.delete(url), 404, 'not_found');
      expectError(await h.w.userB.api.get(url), 404, 'not_found');
      expectError(await h.w.userB.api.patch(url, { status: 'done' }), 404, 'not_found');
      expect((await h.w.managerB.api.get(`/api/tasks?project_id=${h.w.projectA.id}`)).body.total).toBe(0);
      // The owner cannot move a task into a project they cannot see.
      expectError(await h.w.managerA.api.patch(url, { project_id: h.w.projectB.id }), 404, 'not_found');
      const intact = await h.w.admin.api.get(url);
      expect(intact.body).toMatchObject({ title: 'Task A', project_id: h.w.projectA.id });

      // The owner and admins delete.
      const t = await newTask(h.w.managerA.api, { project_id: h.w.projectA.id, title: 'Delete me' });
      const del = await h.w.managerA.api.delete(`/api/tasks/${t.id}`);
      expect(del.status).toBe(204);
      expect(del.text).toBe('');
      expectError(await h.w.managerA.api.get(`/api/tasks/${t.id}`), 404, 'not_found');
      const u = await newTask(h.w.managerB.api, { project_id: h.w.projectB.id, title: 'Admin deletes me' });
      expect((await h.w.admin.api.delete(`/api/tasks/${u.id}`)).status).toBe(204);
      expectError(await h.w.admin.api.delete(`/api/tasks/${u.id}`), 404, 'not_found');
    });

    it('a user lists only the tasks assigned to them', async () => {
      const res = await h.w.userB.api.get('/api/tasks?limit=200');
      expect(res.status).toBe(200);
      expect(res.body.total).toBeGreaterThan(0);
      expect(res.body.items.every((t: { assignee_id: number }) => t.assignee_id === h.w.userB.id)).toBe(true);
      expect(ids(res)).toContain(h.w.taskB.id);
      expect(ids(res)).not.toContain(h.w.taskA.id);
    });
  });
});
