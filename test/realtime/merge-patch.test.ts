import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { apply, diff, type Json } from '../../src/realtime/merge-patch.js';

describe('RFC 7396 merge patch: apply', () => {
  // Every example of RFC 7396, Appendix A, in its order.
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

  it('applies the example of RFC 7396 section 3, leaving its inputs alone', () => {
    const target: Json = {
      title: 'Goodbye!',
      author: { givenName: 'John', familyName: 'Doe' },
      tags: ['example', 'sample'],
      content: 'This will be unchanged',
    };
    const patch: Json = {
      title: 'Hello!',
      phoneNumber: '+01-123-456-7890',
      author: { familyName: null },
      tags: ['example'],
    };
    const targetCopy = structuredClone(target);
    const patchCopy = structuredClone(patch);
    expect(apply(target, patch)).toEqual({
      title: 'Hello!',
      author: { givenName: 'John' },
      tags: ['example'],
      content: 'This will be unchanged',
      phoneNumber: '+01-123-456-7890',
    });
    expect(target).toEqual(targetCopy);
    expect(patch).toEqual(patchCopy);
  });
});

describe('merge patch: diff', () => {
  const counts = fc.record({ todo: fc.nat(), in_progress: fc.nat(), blocked: fc.nat(), done: fc.nat() });
  /** Documents shaped like dashboards (DESIGN §4): optional sections, maps keyed by id or day. */
  const dashboard = fc.record(
    {
      role: fc.constantFrom('admin', 'manager', 'user'),
      my_tasks: counts,
      my_overdue: fc.nat(),
      team_tasks: counts,
      org_tasks: counts,
      users_by_role: fc.record({ admin: fc.nat(), manager: fc.nat(), user: fc.nat() }),
      projects: fc.dictionary(
        fc.integer({ min: 1, max: 12 }).map(String),
        fc.record({ name: fc.string({ maxLength: 12 }), done: fc.nat(), total: fc.nat() }),
        { maxKeys: 6 },
      ),
      completed_by_day: fc.dictionary(
        fc.constantFrom('2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23'),
        fc.nat(),
      ),
    },
    { requiredKeys: ['role', 'my_tasks', 'my_overdue', 'completed_by_day'] },
  );
  /** Any nesting of objects over numbers and strings; few key names, so documents share keys. */
  const { tree } = fc.letrec((tie) => ({
    tree: fc.dictionary(
      fc.constantFrom('a', 'b', 'c', 'd', 'e', '7', '12'),
      fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string({ maxLength: 6 }), tie('tree')),
      { maxKeys: 5 },
    ),
  }));
  /** `b` as an edit of `a`: some values changed, some keys removed, some added. */
  const edited = (gen: fc.Arbitrary<Record<string, unknown>>) =>
    fc.tuple(gen, gen, fc.func(fc.constantFrom('keep', 'drop', 'take'))).map(([a, other, choose]) => {
      const b: Record<string, unknown> = {};
      for (const key of new Set([...Object.keys(a), ...Object.keys(other)])) {
        const choice = choose(key);
        if (choice === 'keep' && key in a) b[key] = a[key];
        else if (choice === 'take' && key in other) b[key] = other[key];
      }
      return [a, b] as [Json, Json];
    });

  const roundTrip = ([a, b]: [Json, Json]) => {
    const before = structuredClone(a);
    const patch = diff(a, b);
    expect(apply(a, patch === undefined ? {} : patch)).toEqual(b);
    expect(a).toEqual(before); // diff and apply never modify the previous version
    if (patch === undefined) expect(b).toEqual(a);
    else {
      // The patch names only keys whose value changed.
      const changed = (key: string) =>
        JSON.stringify((a as Record<string, Json>)[key]) !== JSON.stringify((b as Record<string, Json>)[key]);
      expect(Object.keys(patch as object).filter((key) => !changed(key))).toEqual([]);
    }
    expect(diff(a, a)).toBeUndefined();
    expect(diff(a, structuredClone(a))).toBeUndefined();
  };

  it('apply(a, diff(a, b)) is b, and diff(a, a) is nothing, for dashboard-shaped documents', () => {
    fc.assert(fc.property(fc.tuple(dashboard, dashboard) as fc.Arbitrary<[Json, Json]>, roundTrip), {
      numRuns: 300,
    });
    fc.assert(fc.property(edited(dashboard), roundTrip), { numRuns: 300 });
  });

  it('apply(a, diff(a, b)) is b for nested objects with keys added, removed and changed', () => {
    fc.assert(fc.property(edited(tree), roundTrip), { numRuns: 500 });
    fc.assert(fc.property(fc.tuple(tree, tree) as fc.Arbitrary<[Json, Json]>, roundTrip), { numRuns: 300 });
  });

  it('gives the smallest patch for a typical change', () => {
    const before: Json = {
      role: 'user',
      my_tasks: { todo: 2, in_progress: 0, blocked: 0, done: 1 },
      my_overdue: 0,
      completed_by_day: { '2026-11-24': 1, '2026-11-25': 0 },
    };
    const after: Json = {
      role: 'user',
      my_tasks: { todo: 1, in_progress: 0, blocked: 0, done: 2 },
      my_overdue: 0,
      completed_by_day: { '2026-11-25': 1, '2026-11-26': 0 },
    };
    expect(diff(before, after)).toEqual({
      my_tasks: { todo: 1, done: 2 },
      completed_by_day: { '2026-11-24': null, '2026-11-25': 1, '2026-11-26': 0 },
    });
  });
});
