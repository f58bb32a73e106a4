import { describe, expect, it } from 'vitest';
import { DRIVERS, expectError, expectInvalid, ids, sorted, useApi } from '../support/api-harness.ts';

/** The JSON API contract (docs/contract.md §4) for audit, on every driver. */
describe.each(DRIVERS)('audit API on %s', (driver) => {
  const h = useApi(driver, { minValidated: 3 });
  const { anon, newTask } = h;

  describe('audit', () => {
    it('is for admins only', async () => {
      expectError(await h.w.managerA.api.get('/api/audit'), 403, 'forbidden');
      expectError(await h.w.userA.api.get('/api/audit'), 403, 'forbidden');
      expectError(await anon().get('/api/audit'), 401, 'unauthenticated');
    });

    it('answers {items, total} newest first, each entry with actor {id, username}, entity, op, before, after', async () => {
      const p = await h.w.managerA.api.post('/api/projects', { name: 'Audited' });
      await h.w.managerA.api.patch(`/api/projects/${p.body.id}`, { name: 'Audited twice' });
      await h.w.managerA.api.delete(`/api/projects/${p.body.id}`);

      const res = await h.w.admin.api.get(`/api/audit?entity=projects&actor_id=${h.w.managerA.id}`);
      expect(res.status).toBe(200);
      expect(sorted(Object.keys(res.body))).toEqual(['items', 'total']);
      expect(res.body.total).toBe(res.body.items.length);
      for (const entry of res.body.items) {
        expect(entry).toMatchObject({ entity: 'projects', actor: { id: h.w.managerA.id, username: 'mara' } });
      }
      const [deleted, updated, inserted] = res.body.items;
      expect(deleted).toMatchObject({
        op: 'delete',
        row_id: p.body.id,
        before: { name: 'Audited twice', owner_id: h.w.managerA.id },
        after: null,
      });
      expect(updated).toMatchObject({
        op: 'update',
        row_id: p.body.id,
        before: { name: 'Audited' },
        after: { name: 'Audited twice' },
      });
      expect(inserted).toMatchObject({
        op: 'insert',
        row_id: p.body.id,
        before: null,
        after: { name: 'Audited' },
      });

      // Newest first across the whole log.
      const page = await h.w.admin.api.get('/api/audit?limit=200');
      const entryIds = ids(page);
      expect(entryIds.length).toBeGreaterThan(10);
      expect(entryIds).toEqual([...entryIds].sort((x, y) => y - x));
      const times = page.body.items.map((e: { at: string }) => Date.parse(e.at));
      expect(times).toEqual([...times].sort((x, y) => y - x));
      for (const entry of page.body.items) {
        expect(['users', 'projects', 'tasks']).toContain(entry.entity);
        expect(['insert', 'update', 'delete']).toContain(entry.op);
        if (entry.actor !== null)
          expect(entry.actor).toMatchObject({ id: expect.any(Number), username: expect.any(String) });
      }
      // Writes made outside the portal (makeWorld inserts with SQL) have no actor.
      const seeded = await h.w.admin.api.get(`/api/audit?entity=projects&row_id=${h.w.projectA.id}`);
      expect(seeded.body.items.at(-1)).toMatchObject({ op: 'insert', actor: null, actor_id: null });
    });

    it('filters by entity and actor_id, and paginates', async () => {
      const t = await newTask(h.w.managerB.api, { project_id: h.w.projectB.id, title: 'Audit me' });
      await h.w.managerB.api.patch(`/api/tasks/${t.id}`, { title: 'Audit me again' });
      await h.w.userB.api.patch(`/api/tasks/${h.w.taskB.id}`, { status: 'blocked' });

      const byB = await h.w.admin.api.get(`/api/audit?actor_id=${h.w.managerB.id}&entity=tasks`);
      expect(byB.body.total).toBeGreaterThanOrEqual(2);
      expect(
        byB.body.items.every(
          (e: { actor_id: number; entity: string }) => e.actor_id === h.w.managerB.id && e.entity === 'tasks',
        ),
      ).toBe(true);
      expect(byB.body.items[0]).toMatchObject({
        op: 'update',
        row_id: t.id,
        before: { title: 'Audit me' },
        after: { title: 'Audit me again' },
      });
      const byUser = await h.w.admin.api.get(`/api/audit?actor_id=${h.w.userB.id}`);
      expect(byUser.body.items[0]).toMatchObject({
        entity: 'tasks',
        op: 'update',
        row_id: h.w.taskB.id,
        after: { status: 'blocked' },
        actor: { id: h.w.userB.id, username: 'ulrich' },
      });
      // A password reset of its own (this file does not depend on another's).
      const reset = await h.newUser('audited.reset', 'user');
      const patched = await h.w.admin.api.patch(`/api/users/${reset.id}`, {
        password: 'another long passphrase',
      });
      expect(patched.status, patched.text).toBe(200);
      const users = await h.w.admin.api.get('/api/audit?entity=users&limit=200');
      expect(users.body.total).toBeGreaterThan(0);
      expect(users.body.items.every((e: { entity: string }) => e.entity === 'users')).toBe(true);
      // The audit never carries a password hash; a reset shows as password_changed.
      const passwordReset = users.body.items.find(
        (e: { after: { password_changed?: boolean } | null }) => e.after?.password_changed,
      );
      expect(passwordReset).toBeDefined();
      expect(users.text).not.toMatch(/password_hash|\$argon2/);

      const whole = await h.w.admin.api.get(`/api/audit?entity=tasks&limit=4`);
      const second = await h.w.admin.api.get(`/api/audit?entity=tasks&limit=2&offset=2`);
      expect(second.body.total).toBe(whole.body.total);
      expect(ids(second)).toEqual(ids(whole).slice(2, 4));
      const last = await h.w.admin.api.get(`/api/audit?entity=tasks&limit=2&offset=${whole.body.total}`);
      expect(last.body).toEqual({ items: [], total: whole.body.total });

      expectInvalid(await h.w.admin.api.get('/api/audit?entity=auth_sessions'), 'entity');
      expectInvalid(await h.w.admin.api.get('/api/audit?actor_id=abc'), 'actor_id');
      expectInvalid(await h.w.admin.api.get('/api/audit?limit=500'), 'limit');
    });
  });
});
