/** Types of merge-patch.js (RFC 7396 JSON Merge Patch), for the server and the load scripts. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** The smallest patch taking `a` to `b`; undefined when they are equal. */
export function diff(a: Json, b: Json): Json | undefined;
/** `target` with `patch` applied; neither argument is modified. */
export function apply(target: Json | undefined, patch: Json): Json;
