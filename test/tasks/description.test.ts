import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { expectErrorBody } from '../support/errors.ts';
import { makeWorld, type World } from '../support/world.ts';

/** Tasks carry a plain-text description: in the API's shape, searched by `q`, its changes logged old → new. */
describe('task descriptions (API)', () => {
  let ctx: TestApp;
  let w: World;
  beforeAll(async () => {
    ctx = await startTestApp('pglite');
    w = await makeWorld(ctx);
  }, 60_000);
  afterAll(() => ctx?.close());

  it('creates, reads, changes and searches a description; 10,000 characters at most', async () => {
    const created = await w.managerA.api.post('/api/tasks', {
      project_id: w.projectA.id,
      title: 'Plain title',
      description: 'Needs the <b>quarterly</b> numbers\nfrom finance',
    });
    expect(created.status).toBe(201);
    expect(created.body.description).toBe('Needs the <b>quarterly</b> numbers\nfrom finance');
    // Without one, a task's description is empty (so are those from before the column).
    expect(w.taskA.id).toBeGreaterThan(0);
    expect((await w.admin.api.get(`/api/tasks/${w.taskA.id}`)).body.description).toBe('');

    const found = await w.managerA.api.get('/api/tasks?q=QUARTERLY');
    expect(found.body.items.map((t: { id: number }) => t.id)).toEqual([created.body.id]);
    // Search keeps the caller's scope: the other manager does not find it.
    expect((await w.managerB.api.get('/api/tasks?q=quarterly')).body.total).toBe(0);

    const patched = await w.managerA.api.patch(`/api/tasks/${created.body.id}`, {
      description: 'Done with it',
    });
    expect(patched.status).toBe(200);
    expect(patched.body.description).toBe('Done with it');

    const tooLong = await w.managerA.api.patch(`/api/tasks/${created.body.id}`, {
      description: 'x'.repeat(10_001),
    });
    expect(expectErrorBody(tooLong, 422)).toEqual(['description']);
    const fits = await w.managerA.api.patch(`/api/tasks/${created.body.id}`, {
      description: 'y'.repeat(10_000),
    });
    expect(fits.status).toBe(200);

    // The change log has the value before and after, which the task page and the activity page show.
    const log = await w.admin.api.get(`/api/audit?entity=tasks&row_id=${created.body.id}`);
    const change = log.body.items.find(
      (e: { before: Record<string, unknown> | null }) => e.before?.description === 'Done with it',
    );
    expect(change.after.description).toBe('y'.repeat(10_000));
  });

  it('refuses the assignee a description change (status only)', async () => {
    const res = await w.userA.api.patch(`/api/tasks/${w.taskA.id}`, { description: 'mine now' });
    expectErrorBody(res, 403);
  });
});
