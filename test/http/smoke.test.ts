import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.ts';
import { type ContractCheck, validateResponses } from '../support/openapi-contract.ts';
import { makeWorld, type World } from '../support/world.ts';

describe.each(['pglite', 'pg', 'neon'] as const)('smoke on %s', (driver) => {
  let ctx: TestApp;
  let world: World;
  let contract: ContractCheck;
  beforeAll(async () => {
    ctx = await startTestApp(driver);
    contract = await validateResponses(ctx);
    world = await makeWorld(ctx);
  });
  afterAll(async () => {
    await ctx?.close();
    // The check ran on this file's responses, not on none of them.
    expect(contract.validated).toBeGreaterThan(5);
  });

  it('answers the signed-in user and their dashboard', async () => {
    const me = await world.userA.api.get('/api/me');
    expect(me.status).toBe(200);
    expect(me.body.username).toBe('ursula');
    const metrics = await world.userA.api.get('/api/metrics');
    expect(metrics.body.my_tasks.todo).toBe(1);
  });
});
