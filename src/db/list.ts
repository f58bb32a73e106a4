import { count, getTableColumns, type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { type Page, pageOf } from '../auth/actor.ts';
import type { Db } from './database.ts';

/**
 * One page of a table's rows and the total matching `where`, as every list of the API answers:
 * one statement (the count joined to the page laterally, so an empty page still brings its
 * total), not two. Far from the database it is one round trip either way (they ran in parallel),
 * but each statement costs the portal a write to its socket and PostgreSQL a parse, bind and
 * execute: the page of GET /api/tasks spent a fifth of its CPU in `writev`.
 */
export async function listPage<T extends PgTable, Item>(
  db: Db,
  table: T,
  where: SQL | undefined,
  order: SQL[],
  page: Page,
  toItem: (row: T['$inferSelect']) => Item,
): Promise<{ items: Item[]; total: number }> {
  const { limit, offset } = pageOf(page);
  const total = db
    .select({ n: count().as('n') })
    .from(table as PgTable)
    .where(where)
    .as('total');
  const rows = db
    .select()
    .from(table as PgTable)
    .where(where)
    .orderBy(...order)
    .limit(limit)
    .offset(offset)
    .as('page');
  const columns = Object.keys(getTableColumns(table));
  const fields = Object.fromEntries(
    columns.map((name) => [name, (rows as unknown as Record<string, SQL>)[name]!]),
  ) as Record<string, SQL>;
  const found = (await db
    .select({ n: total.n, row: fields })
    .from(total)
    .leftJoinLateral(rows, sql`true`)) as { n: number; row: T['$inferSelect'] | null }[];
  const items: Item[] = [];
  for (const r of found) if (r.row) items.push(toItem(r.row));
  return { items, total: Number(found[0]?.n ?? 0) };
}
