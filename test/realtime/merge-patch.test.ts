import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply, diff, type Json } from '../../src/realtime/merge-patch.js';

describe('RFC 7396 merge patch', () => {
  // The examples of RFC 7396, appendix A (those without arrays-as-targets subtleties included too).
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ] as [Json, Json, Json][])('apply(%j, %j) = %j', (target, patch, result) => {
    expect(apply(target, patch)).toEqual(result);
  });

  const counts = fc.record({ todo: fc.nat(), in_progress: fc.nat(), blocked: fc.nat(), done: fc.nat() });
  const dashboard = fc.record(
    {
      role: fc.constantFrom('admin', 'manager', 'user'),
      my_tasks: counts,
      my_overdue: fc.nat(),
      team_tasks: counts,
      projects: fc.dictionary(
        fc.integer({ min: 1, max: 40 }).map(String),
        fc.record({ name: fc.string({ maxLength: 12 }), done: fc.nat(), total: fc.nat() }),
        { maxKeys: 8 },
      ),
      completed_by_day: fc.dictionary(fc.constantFrom('2026-11-20', '2026-11-21', '2026-11-22'), fc.nat()),
    },
    { requiredKeys: ['role', 'my_tasks', 'my_overdue', 'completed_by_day'] },
  );

  it('apply(a, diff(a, b)) is b, and diff(a, a) is nothing, for dashboard-shaped documents', () => {
    fc.assert(
      fc.property(dashboard, dashboard, (a, b) => {
        const patch = diff(a as Json, b as Json);
        expect(apply(a as Json, patch === undefined ? {} : patch)).toEqual(b);
        expect(diff(a as Json, a as Json)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });
});
