/**
 * RFC 7396 JSON Merge Patch: `diff(a, b)` gives the smallest patch taking `a` to `b` (undefined
 * when they are equal); `apply(a, patch)` applies one. Documents hold no arrays and no
 * meaningful nulls (DESIGN §4), which is what makes merge patches exact for them.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

export function diff(a: Json, b: Json): Json | undefined {
  if (!isObject(a) || !isObject(b)) return JSON.stringify(a) === JSON.stringify(b) ? undefined : b;
  const patch: JsonObject = {};
  let changed = false;
  for (const key of Object.keys(a)) {
    if (!(key in b)) {
      patch[key] = null;
      changed = true;
    }
  }
  for (const [key, value] of Object.entries(b)) {
    const before = a[key];
    const sub = before === undefined ? value : diff(before, value);
    if (sub !== undefined) {
      patch[key] = sub;
      changed = true;
    }
  }
  return changed ? patch : undefined;
}

export function apply(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = apply(result[key] ?? null, value);
  }
  return result;
}
