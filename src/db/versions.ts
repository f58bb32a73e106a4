import { createHash } from 'node:crypto';
import { type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { PortalError } from '../errors.ts';

/**
 * Versions of single rows, for HTTP `ETag` / `If-Match` (optimistic concurrency).
 *
 * A row's version is PostgreSQL's `xmin`: the id of the transaction that wrote this version of the
 * row. Any writer changes it (the portal, psql, a migration), it needs no column or trigger, and it
 * is read in the same statement as the row. The ETag hashes it with the representation the caller
 * gets, so two different representations never share a tag.
 */
export const rowVersion = (table: PgTable): SQL<string> => sql<string>`${table}.xmin::text`;

/** The strong entity tag of one representation of a row: `"<27 base64url characters>"`. */
export function etagFor(kind: string, version: string, representation: unknown): string {
  const hash = createHash('sha256')
    .update(`${kind}\n${version}\n${JSON.stringify(representation)}`)
    .digest('base64url');
  return `"${hash.slice(0, 27)}"`;
}

const ETAG = Symbol('etag');

/** The item with its ETag attached (not enumerable: JSON and equality never see it). */
export function withEtag<T extends object>(item: T, etag: string): T {
  Object.defineProperty(item, ETAG, { value: etag, enumerable: false });
  return item;
}

/** The ETag `withEtag` attached, if any. */
export function etagOf(item: object): string | undefined {
  return (item as { [ETAG]?: string })[ETAG];
}

/** A parsed `If-Match`: any current representation (`*`), or a list of entity tags. */
export type IfMatch = { any: true } | { any: false; tags: { weak: boolean; tag: string }[] };

const ENTITY_TAG = /^\s*(W\/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)/;

/**
 * RFC 9110 §13.1.1: `*` or a comma-separated list of entity tags (`"x"`, `W/"x"`). Undefined when
 * the header is absent; a malformed header is a 400, so a typo does not silently turn the
 * precondition off.
 */
export function parseIfMatch(header: string | undefined): IfMatch | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === '*') return { any: true };
  const tags: { weak: boolean; tag: string }[] = [];
  let rest = value;
  while (rest.length > 0) {
    const m = ENTITY_TAG.exec(rest);
    if (!m) break;
    tags.push({ weak: m[1] !== undefined, tag: m[2]! });
    rest = rest.slice(m[0].length).replace(/^[\s,]+/, '');
  }
  if (rest.length > 0 || tags.length === 0) {
    throw new PortalError(
      'bad_request',
      'If-Match must be * or a list of entity tags as ETag sends them (quoted, e.g. "abc")',
    );
  }
  return { any: false, tags };
}

/**
 * Throws 412 `precondition_failed` unless `current` (the locked row, as the caller sees it)
 * satisfies the precondition. If-Match uses the strong comparison: a weak tag never matches.
 */
export function assertIfMatch(ifMatch: IfMatch | undefined, etag: string, current: object): void {
  if (!ifMatch || ifMatch.any) return;
  if (ifMatch.tags.some((t) => !t.weak && t.tag === etag)) return;
  throw new PortalError(
    'precondition_failed',
    'This was changed since you read it: reload it, or send the current ETag to overwrite',
    { current, etag },
    { currentTag: etag },
  );
}
