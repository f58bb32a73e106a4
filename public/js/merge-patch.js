// @ts-check
/**
 * RFC 7396 JSON Merge Patch, the one implementation of it in this project: the server
 * (src/realtime/merge-patch.ts re-exports it), the browser (live-document.js imports it through
 * the asset pipeline) and the k6 load scripts (load/lib/realtime.ts) all load this file.
 * Plain ES2020, no dependencies, nothing browser- or Node-specific.
 *
 * `diff(a, b)` gives the smallest patch taking `a` to `b` (undefined when they are equal);
 * `apply(target, patch)` applies one and never modifies its arguments. Documents hold no arrays
 * and no meaningful nulls, which is what makes merge patches exact for them.
 *
 * Any string is a key, "__proto__", "constructor" and "toString" included: keys are looked up
 * with own-property checks only (never `in` or a bare read, which walk the prototype chain), and
 * written with defineProperty (an assignment to "__proto__" would set the prototype instead).
 */

/** @import { Json } from './merge-patch.js' */

const hasOwn = (/** @type {object} */ o, /** @type {string} */ key) => Object.hasOwn(o, key);

/** @returns {value is { [key: string]: Json }} */
const isObject = (/** @type {unknown} */ value) =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An own, enumerable, writable data property, whatever the key's name. */
const put = (/** @type {object} */ o, /** @type {string} */ key, /** @type {Json} */ value) =>
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });

/** @type {typeof import('./merge-patch.js').diff} */
export function diff(a, b) {
  if (!isObject(a) || !isObject(b)) return JSON.stringify(a) === JSON.stringify(b) ? undefined : b;
  /** @type {{ [key: string]: Json }} */
  const patch = {};
  let changed = false;
  for (const key of Object.keys(a)) {
    if (!hasOwn(b, key)) {
      put(patch, key, null);
      changed = true;
    }
  }
  for (const key of Object.keys(b)) {
    const value = /** @type {Json} */ (b[key]);
    const sub = hasOwn(a, key) ? diff(/** @type {Json} */ (a[key]), value) : value;
    if (sub !== undefined) {
      put(patch, key, sub);
      changed = true;
    }
  }
  return changed ? patch : undefined;
}

/** @type {typeof import('./merge-patch.js').apply} */
export function apply(target, patch) {
  if (!isObject(patch)) return patch;
  /** @type {{ [key: string]: Json }} */
  const result = {};
  if (isObject(target))
    for (const key of Object.keys(target)) put(result, key, /** @type {Json} */ (target[key]));
  for (const key of Object.keys(patch)) {
    const value = /** @type {Json} */ (patch[key]);
    if (value === null) delete result[key];
    else put(result, key, apply(hasOwn(result, key) ? result[key] : null, value));
  }
  return result;
}
