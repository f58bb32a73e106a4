import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { makeWorld, type World } from '../support/world.ts';

/**
 * Notifications as their recipients see them over the API: created for someone else's change
 * (an assignment, a status change of a task I am assigned or whose project I own, a role change),
 * never for my own; listed newest first; marked read; only ever my own.
 */
describe.each(['pglite', 'pg'] as const)('notifications on %s', (driver) => {
  let ctx: TestApp;
  let w: World;
  beforeAll(async () => {
    ctx = await startTestApp(driver);
    w = await makeWorld(ctx, 'n');
  }, 60_000);
  afterAll(() => ctx?.close());

  const list = async (who: World['userA'], query = '') =>
    (await who.api.get(`/api/notifications${query}`)).body;

  it('starts empty: the test world was written by nobody in particular', async () => {
    expect(await list(w.userA)).toEqual({ items: [], total: 0 });
    expect((await w.userA.api.get('/api/metrics')).body.notifications).toEqual({ unread: 0, latest: {} });
  });

  it('tells an assignee who gave them a task, and tells the acting manager nothing', async () => {
    const made = await w.managerA.api.post('/api/tasks', {
      project_id: w.projectA.id,
      title: 'Quarterly report',
      assignee_id: w.userA.id,
    });
    expect(made.status).toBe(201);
    const mine = await list(w.userA);
    expect(mine.total).toBe(1);
    expect(mine.items[0]).toMatchObject({
      kind: 'task_assigned',
      message: 'nmara assigned you “Quarterly report”',
      task_id: made.body.id,
      actor_id: w.managerA.id,
      read_at: null,
    });
    expect((await list(w.managerA)).total).toBe(0);
    // The dashboard document carries it too (what the bell shows, live).
    const doc = (await w.userA.api.get('/api/metrics')).body;
    expect(doc.notifications.unread).toBe(1);
    expect(doc.notifications.latest[String(mine.items[0].id)]).toMatchObject({
      kind: 'task_assigned',
      message: 'nmara assigned you “Quarterly report”',
      task_id: made.body.id,
      read: false,
    });
  });

  it('tells the project owner when the assignee moves a task, and the assignee when the owner does', async () => {
    expect((await w.userA.api.patch(`/api/tasks/${w.taskA.id}`, { status: 'in_progress' })).status).toBe(200);
    const owner = await list(w.managerA);
    expect(owner.items[0]).toMatchObject({
      kind: 'task_status',
      message: 'nursula moved “Task A” to in progress',
      task_id: w.taskA.id,
    });
    const before = (await list(w.userA)).total;
    expect((await w.managerA.api.patch(`/api/tasks/${w.taskA.id}`, { status: 'done' })).status).toBe(200);
    const assignee = await list(w.userA);
    expect(assignee.total).toBe(before + 1);
    expect(assignee.items[0]).toMatchObject({ kind: 'task_status', message: 'nmara moved “Task A” to done' });
    // An admin's change reaches both, once each.
    const ownerBefore = (await list(w.managerA)).total;
    expect((await w.admin.api.patch(`/api/tasks/${w.taskA.id}`, { status: 'todo' })).status).toBe(200);
    expect((await list(w.managerA)).total).toBe(ownerBefore + 1);
    expect((await list(w.userA)).total).toBe(before + 2);
    expect((await list(w.admin)).total).toBe(0);
  });

  it('tells a person their role changed; nobody else hears of it', async () => {
    const others = (await list(w.userA)).total;
    expect((await w.admin.api.patch(`/api/users/${w.userB.id}`, { role: 'manager' })).status).toBe(200);
    const theirs = await list(w.userB);
    expect(theirs.items[0]).toMatchObject({
      kind: 'role_changed',
      message: 'nroot changed your role to manager',
      task_id: null,
    });
    expect((await list(w.userA)).total).toBe(others);
  });

  it('marks read the given ones or all, only ever the caller’s own', async () => {
    const mine = await list(w.userA);
    expect(mine.total).toBeGreaterThanOrEqual(3);
    const first = mine.items[0].id as number;
    // Someone else's ids are not theirs to mark.
    expect((await w.userB.api.post('/api/notifications/read', { ids: [first] })).body).toEqual({ marked: 0 });
    expect((await list(w.userA, '?unread=1')).total).toBe(mine.total);
    expect((await w.userA.api.post('/api/notifications/read', { ids: [first] })).body).toEqual({ marked: 1 });
    expect((await list(w.userA, '?unread=1')).total).toBe(mine.total - 1);
    expect((await w.userA.api.post('/api/notifications/read', {})).body).toEqual({ marked: mine.total - 1 });
    expect((await list(w.userA, '?unread=1')).total).toBe(0);
    const doc = (await w.userA.api.get('/api/metrics')).body;
    expect(doc.notifications.unread).toBe(0);
    expect(Object.values(doc.notifications.latest).every((n) => (n as { read: boolean }).read)).toBe(true);
    // Read ones are still listed.
    expect((await list(w.userA)).total).toBe(mine.total);
  });

  it('pages with limit and offset, newest first', async () => {
    const all = await list(w.userA);
    const page = await list(w.userA, '?limit=1&offset=1');
    expect(page.total).toBe(all.total);
    expect(page.items).toEqual([all.items[1]]);
  });

  it.each([
    [{ ids: ['x'] }, 'ids'],
    [{ ids: [] }, 'ids'],
    [{ ids: [0] }, 'ids'],
    [{ everything: true }, 'everything'],
  ])('answers 422 naming the field for %j', async (body, field) => {
    const res = await w.userA.api.post('/api/notifications/read', body);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('validation_failed');
    expect(JSON.stringify(res.body.error.details)).toContain(field);
  });

  it('answers 422 for a bad query and 401 without a sign-in', async () => {
    expect((await w.userA.api.get('/api/notifications?unread=yes')).status).toBe(422);
    expect((await w.userA.api.get('/api/notifications?limit=0')).status).toBe(422);
    expect((await w.anon.get('/api/notifications')).status).toBe(401);
    expect((await w.anon.post('/api/notifications/read', {})).status).toBe(401);
  });
});
