import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildAssets } from '../../src/http/assets.ts';
import { apply, diff, type Json } from '../../src/realtime/merge-patch.ts';

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
  /** Documents shaped like dashboards (docs/contract.md §5): optional sections, maps keyed by id or day. */
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

/** JSON text with object keys sorted: equal documents, equal text ("__proto__" keys included). */
const canonical = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
    .join(',')}}`;
};

describe('merge patch: keys named like Object.prototype members', () => {
  const parse = (text: string) => JSON.parse(text) as Json;

  it('diff sees a removed key named "constructor", "toString" or "__proto__"', () => {
    expect(diff({ constructor: 1, x: 1 }, { x: 2 })).toEqual({ constructor: null, x: 2 });
    expect(diff({ toString: 'a' }, {})).toEqual({ toString: null });
    expect(canonical(diff(parse('{"__proto__":1,"x":1}'), { x: 1 }))).toBe('{"__proto__":null}');
    // ...and an added one, which a bare read found on the prototype chain before.
    expect(diff({}, { constructor: 1 })).toEqual({ constructor: 1 });
    expect(diff({ a: {} }, { a: { hasOwnProperty: 2 } })).toEqual({ a: { hasOwnProperty: 2 } });
  });

  it('apply adds a "__proto__" key as a key, never as the prototype', () => {
    const patched = apply({ a: 1 }, parse('{"__proto__":{"polluted":true},"b":2}')) as Record<string, Json>;
    expect(Object.getPrototypeOf(patched)).toBe(Object.prototype);
    expect(Object.keys(patched).sort()).toEqual(['__proto__', 'a', 'b']);
    expect(canonical(patched)).toBe('{"__proto__":{"polluted":true},"a":1,"b":2}');
    expect((patched as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    // Kept by a later patch, and removed by one.
    const again = apply(patched, { c: 3 });
    expect(canonical(again)).toBe('{"__proto__":{"polluted":true},"a":1,"b":2,"c":3}');
    expect(canonical(apply(again, parse('{"__proto__":null}')))).toBe('{"a":1,"b":2,"c":3}');
  });

  it('apply merges into a key named "constructor" as a plain value, not into Object', () => {
    expect(apply({}, { constructor: { name: 'x' } })).toEqual({ constructor: { name: 'x' } });
    expect(apply({ toString: { a: 1 } }, { toString: { b: 2 } })).toEqual({ toString: { a: 1, b: 2 } });
    expect(apply({ valueOf: 1 }, { valueOf: null })).toEqual({});
  });

  /** Objects whose keys are mostly prototype member names, built without ever assigning a key. */
  const { node } = fc.letrec((tie) => ({
    node: fc
      .array(
        fc.tuple(
          fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'a'),
          fc.oneof({ depthSize: 'small' }, fc.integer(), fc.string({ maxLength: 4 }), tie('node')),
        ),
        { maxLength: 5 },
      )
      .map((entries) => Object.fromEntries(entries) as Json),
  }));

  it('apply(a, diff(a, b)) is b, and diff(a, a) is nothing, whatever the key names', () => {
    fc.assert(
      fc.property(node, node, (a, b) => {
        const patch = diff(a, b);
        const result = apply(a, patch === undefined ? {} : patch);
        expect(canonical(result)).toBe(canonical(b));
        expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
        expect(diff(a, a)).toBeUndefined();
        expect(patch === undefined).toBe(canonical(a) === canonical(b));
      }),
      { numRuns: 500 },
    );
  });
});

describe('merge patch: one implementation for server, browser and load scripts', () => {
  const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

  it('the browser is served public/js/merge-patch.js itself, and live-document.js imports it', async () => {
    const assets = buildAssets();
    const served = assets.get('merge-patch.js')!;
    expect(new TextDecoder().decode(served.body)).toBe(read('public/js/merge-patch.js'));
    const live = new TextDecoder().decode(assets.get('live-document.js')!.body);
    expect(live).toContain(`from '${served.url}'`);
    expect(live).not.toMatch(/function applyMergePatch|Object\.entries\(patch\)/);
    // The served bytes, loaded as a module, behave as the server's copy does.
    const mod = (await import(
      `data:text/javascript;base64,${Buffer.from(served.body).toString('base64')}`
    )) as { diff: typeof diff; apply: typeof apply };
    expect(mod.diff({ constructor: 1, x: 1 }, { x: 2 })).toEqual({ constructor: null, x: 2 });
    expect(canonical(mod.apply({}, JSON.parse('{"__proto__":{"p":1}}') as Json))).toBe(
      '{"__proto__":{"p":1}}',
    );
  });

  it('the server and the k6 scripts import that same file, with no merge patch of their own', () => {
    expect(read('src/realtime/merge-patch.ts')).toContain("from '../../public/js/merge-patch.js'");
    const k6 = read('load/lib/realtime.ts');
    expect(k6).toContain("from '../../public/js/merge-patch.js'");
    expect(k6).not.toMatch(/function applyMergePatch/);
  });
});
