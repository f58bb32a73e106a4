import { createHash } from 'node:crypto';
import { inArray, type SQL, type SQLWrapper, sql } from 'drizzle-orm';
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

/** How `JSON.stringify` writes one field of a representation (`representationText`). */
export type JsonKind = 'number' | 'boolean' | 'string' | 'timestamp';

/** `toISOString()` of a timestamptz: milliseconds, truncated as the drivers' Date parsing truncates. */
const ISO_MS = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

/**
 * SQL giving, for the row in scope, the text `JSON.stringify` gives for its API representation:
 * `fields` in the representation's key order, each with how it is written. Integers, booleans,
 * text (escaped by `to_json`, which escapes what `JSON.stringify` escapes), ISO timestamps in
 * milliseconds, and `null`. Used only to compare ETags inside a write (`etagSql`); a case it got
 * wrong would make that write fall back to the locked path, never let a stale write through.
 */
export function representationText(
  fields: readonly (readonly [string, SQLWrapper, JsonKind])[],
): SQL<string> {
  const parts = fields.map(([key, value, kind], i) => {
    const written =
      kind === 'string'
        ? sql`to_json(${value}::text)::text`
        : kind === 'timestamp'
          ? sql`to_json(to_char(${value} at time zone 'UTC', ${ISO_MS}::text))::text`
          : sql`${value}::text`;
    return sql`${`${i === 0 ? '{' : ','}${JSON.stringify(key)}:`}::text || coalesce(${written}, 'null')`;
  });
  return sql<string>`(${sql.join(parts, sql` || `)} || '}')`;
}

/**
 * The ETag `etagFor(kind, <the row's version>, <representation>)` gives, computed by PostgreSQL
 * for the row in scope, so a write can compare a client's If-Match inside its own WHERE clause
 * (one statement instead of a locked read, a check in JavaScript and the write: decision 0027).
 */
export function etagSql(kind: string, table: PgTable, representation: SQL<string>): SQL<string> {
  const hashed = sql`${`${kind}\n`}::text || ${rowVersion(table)} || ${'\n'}::text || ${representation}`;
  return sql<string>`('"' || left(translate(encode(sha256(convert_to(${hashed}, 'UTF8')), 'base64'), '+/', '-_'), 27) || '"')`;
}

/** The strong tags of an If-Match that names tags; undefined when any version matches (`*` or none). */
export function strongTags(ifMatch: IfMatch | undefined): string[] | undefined {
  if (!ifMatch || ifMatch.any) return undefined;
  return ifMatch.tags.filter((t) => !t.weak).map((t) => t.tag);
}

/**
 * A one-statement write's If-Match, as a condition of its WHERE (decision 0027): the row in scope
 * is still the version one of the strong tags names. None for `*` or no If-Match; false when only
 * weak tags came (they never match a write).
 */
export function versionMatches(
  ifMatch: IfMatch | undefined,
  kind: string,
  table: PgTable,
  representation: SQL<string>,
): SQL | undefined {
  const tags = strongTags(ifMatch);
  if (tags === undefined) return undefined;
  return tags.length === 0 ? sql`false` : inArray(etagSql(kind, table, representation), tags);
}
