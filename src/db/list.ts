import { count, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { type Page, pageOf } from '../auth/actor.js';
import type { Db } from './database.js';

/** One page of a table's rows and the total matching `where`, as every list of the API answers. */
export async function listPage<T extends PgTable, Item>(
  db: Db,
  table: T,
  where: SQL | undefined,
  order: SQL[],
  page: Page,
  toItem: (row: T['$inferSelect']) => Item,
): Promise<{ items: Item[]; total: number }> {
  const { limit, offset } = pageOf(page);
  const [rows, [total]] = await Promise.all([
    db
      .select()
      .from(table as PgTable)
      .where(where)
      .orderBy(...order)
      .limit(limit)
      .offset(offset),
    db
      .select({ n: count() })
      .from(table as PgTable)
      .where(where),
  ]);
  return { items: (rows as T['$inferSelect'][]).map(toItem), total: total?.n ?? 0 };
}
