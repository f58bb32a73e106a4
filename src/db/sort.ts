import { asc, desc, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * `sort` ("field" or "-field", already checked against the whitelist by the route schema)
 * to ORDER BY terms. Empty values (no due date) sort last either way, and the id breaks ties
 * so pages never overlap or skip rows.
 */
export function orderBy(
  sort: string | undefined,
  columns: Record<string, AnyPgColumn>,
  fallback: string,
  id: AnyPgColumn,
) {
  const spec = sort ?? fallback;
  const descending = spec.startsWith('-');
  const column = columns[descending ? spec.slice(1) : spec] ?? id;
  const first = descending ? sql`${column} desc nulls last` : sql`${column} asc nulls last`;
  return [first, descending ? desc(id) : asc(id)];
}
