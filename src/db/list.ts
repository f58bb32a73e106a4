import { count, getTableColumns, type SQL, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { type Page, pageOf } from '../auth/actor.ts';
import type { Db } from './database.ts';
import { etagFor, rowVersion } from './versions.ts';

/** The change log's newest id (0 for an empty log), for a list that carries edit forms. */
export const logPositionSql = sql<string>`(select coalesce(max(id), 0) from change_log)`;

/** Columns computed beside each row of a page (its version, names it shows), by name. */
export type Extra = Record<string, SQL.Aliased>;

export interface ListOptions<E extends Extra> {
  /** Computed for each row of the page, in the same statement. */
  extra?: E | undefined;
  /**
   * Also read the change log's newest id, in the same statement: the position an edit form
   * carries (docs/ui-writes.md, "No lost edits") then belongs to the very snapshot its rows and
   * versions were read in, so every change after them has a greater id... as far as ids tell.
   */
  since?: boolean | undefined;
}

/**
 * One page of a table's rows and the total matching `where`, as every list of the API answers:
 * one statement (the count joined to the page laterally, so an empty page still brings its
 * total), not two. Far from the database it is one round trip either way (they ran in parallel),
 * but each statement costs the portal a write to its socket and PostgreSQL a parse, bind and
 * execute: the page of GET /api/tasks spent a fifth of its CPU in `writev`. Pages add what they
 * show beside the rows (`extra`: versions, names) and the change log's position (`since`) to the
 * same statement: one round trip, one snapshot.
 */
export async function listPage<T extends PgTable, Item, E extends Extra = Record<never, SQL.Aliased>>(
  db: Db,
  table: T,
  where: SQL | undefined,
  order: SQL[],
  page: Page,
  toItem: (row: T['$inferSelect']) => Item,
  options: ListOptions<E> = {},
): Promise<{
  items: Item[];
  total: number;
  extras: { [K in keyof E]: E[K]['_']['type'] }[];
  since: number;
}> {
  const { limit, offset } = pageOf(page);
  const total = db
    .select({ n: count().as('n') })
    .from(table as PgTable)
    .where(where)
    .as('total');
  const columns = Object.keys(getTableColumns(table));
  const extraNames = Object.keys(options.extra ?? {});
  const selection: Record<string, unknown> = { ...getTableColumns(table), ...(options.extra ?? {}) };
  const rows = db
    .select(selection as ReturnType<typeof getTableColumns<PgTable>>)
    .from(table as PgTable)
    .where(where)
    .orderBy(...order)
    .limit(limit)
    .offset(offset)
    .as('page');
  const field = (name: string) => (rows as unknown as Record<string, SQL>)[name]!;
  const fields = Object.fromEntries(columns.map((name) => [name, field(name)])) as Record<string, SQL>;
  const extraFields = Object.fromEntries(extraNames.map((name) => [name, field(name)])) as Record<
    string,
    SQL
  >;
  const found = (await db
    .select({
      n: total.n,
      ...(options.since ? { since: logPositionSql } : {}),
      row: fields,
      ...(extraNames.length ? { extra: extraFields } : {}),
    })
    .from(total)
    .leftJoinLateral(rows, sql`true`)) as {
    n: number;
    since?: string;
    row: T['$inferSelect'] | null;
    extra?: Record<string, unknown>;
  }[];
  const items: Item[] = [];
  const extras: Record<string, unknown>[] = [];
  for (const r of found)
    if (r.row) {
      items.push(toItem(r.row));
      extras.push(r.extra ?? {});
    }
  return {
    items,
    total: Number(found[0]?.n ?? 0),
    extras: extras as { [K in keyof E]: E[K]['_']['type'] }[],
    since: Number(found[0]?.since ?? 0),
  };
}

/** A page's `extra` for lists with edit forms: each row's version, read with it. */
export const versionExtra = (table: PgTable) => ({ version: rowVersion(table).as('version') });

/**
 * The ETags of a page's items (`kind`: 'task', 'project', 'user'), hashed with the representation
 * read and the version read with it in the same statement: what the list's forms send back.
 */
export function pageEtags(
  kind: string,
  items: readonly { id: number }[],
  extras: readonly { version: string }[],
): Map<number, string> {
  return new Map(items.map((item, i) => [item.id, etagFor(kind, extras[i]!.version, item)]));
}
