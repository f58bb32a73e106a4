import { count, getTableColumns, is, type Placeholder, type SQL, sql } from 'drizzle-orm';
import { type PgTable, PgTimestamp } from 'drizzle-orm/pg-core';
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
): Promise<ListedPage<Item, E>> {
  const { limit, offset } = pageOf(page);
  const found = (await pageQuery(db, table, where, order, limit, offset, options)) as PageRow<T>[];
  return unpack(found, toItem);
}

type PageRow<T extends PgTable> = {
  n: number;
  since?: string;
  row: T['$inferSelect'] | null;
  extra?: Record<string, unknown>;
};

type ListedPage<Item, E extends Extra> = {
  items: Item[];
  total: number;
  extras: { [K in keyof E]: E[K]['_']['type'] }[];
  since: number;
};

/** The statement of `listPage`, not run: the count joined laterally to the page. */
function pageQuery<T extends PgTable, E extends Extra>(
  db: Db,
  table: T,
  where: SQL | undefined,
  order: SQL[],
  limit: number | Placeholder,
  offset: number | Placeholder,
  options: ListOptions<E>,
) {
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
  return db
    .select({
      n: total.n,
      ...(options.since ? { since: logPositionSql } : {}),
      row: fields,
      ...(extraNames.length ? { extra: extraFields } : {}),
    })
    .from(total)
    .leftJoinLateral(rows, sql`true`);
}

function unpack<T extends PgTable, Item, E extends Extra>(
  found: PageRow<T>[],
  toItem: (row: T['$inferSelect']) => Item,
): ListedPage<Item, E> {
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

/**
 * A row as a prepared page hands it over: every column as the query builder would map it, but
 * instants (timestamp with time zone) already as the ISO text the API answers
 * (`2026-12-04T17:37:00.123Z`, what `Date#toISOString` gives), not as Date objects.
 */
export type IsoRow<R> = {
  [K in keyof R]: R[K] extends Date ? string : R[K] extends Date | null ? string | null : R[K];
};

/**
 * PostgreSQL's text of an instant (`2026-12-04 17:37:00.123456+00`, DateStyle ISO) as
 * `Date#toISOString` would give it after `new Date(text)`: milliseconds truncated, UTC. Text in
 * UTC is rewritten as it is (a tenth of the cost of parsing it into a Date and printing that);
 * anything else (another session time zone, years before 1000 or past 9999, BC) goes through a
 * Date, exactly as before.
 */
export function isoOfInstant(value: unknown): string {
  if (typeof value === 'string') {
    const n = value.length;
    if (
      n >= 22 &&
      n <= 29 &&
      value.charCodeAt(0) >= 49 && // years 1000-9999: V8 reads years below 100 oddly, kept as it was
      value.charCodeAt(n - 3) === 43 && // '+'
      value.charCodeAt(n - 2) === 48 && // '0'
      value.charCodeAt(n - 1) === 48 && // '0'
      value.charCodeAt(4) === 45 && // '-'
      value.charCodeAt(7) === 45 &&
      value.charCodeAt(10) === 32 && // ' '
      value.charCodeAt(13) === 58 && // ':'
      value.charCodeAt(16) === 58 &&
      (n === 22 || (n > 23 && value.charCodeAt(19) === 46)) // '.' and 1-6 digits
    ) {
      const fraction = n === 22 ? '000' : `${value.slice(20, n - 3)}00`.slice(0, 3);
      return `${value.slice(0, 10)}T${value.slice(11, 19)}.${fraction}Z`;
    }
    return new Date(value).toISOString();
  }
  return (value as Date).toISOString();
}

/** What a prepared page statement answers: the page's rows (`IsoRow`s), total and log position. */
interface PreparedPage<T extends PgTable> {
  rows: IsoRow<T['$inferSelect']>[];
  total: number;
  since: number;
}
type PreparedStatement<T extends PgTable> = {
  execute(values: Record<string, unknown>): Promise<PreparedPage<T>>;
};

/**
 * The statement of one list shape (which filters, which order; values left as placeholders),
 * once built and prepared, per database handle. A shape is built once per process and parsed
 * and planned once per connection (a named statement) instead of on every request: building
 * the page's SQL was the largest share of GET /api/tasks's CPU (docs/benchmarks.md, "Request
 * path"). At most MAX_SHAPES per handle are kept, so arbitrary combinations of filters cannot
 * grow memory (here or in PostgreSQL's per-connection statements) without bound; past that a
 * shape is built on each call, as before.
 */
const prepared = new WeakMap<Db, Map<string, PreparedStatement<PgTable>>>();
const MAX_SHAPES = 64;
/** Statement names are unique in the process: one name never stands for two texts on a connection. */
let statementCount = 0;

/** A list's statement as a shape: the same `key` must always build the same SQL. */
export interface ListShape {
  /** Everything that decides the statement's text (the filters present, the order, the table). */
  key: string;
  /** Builds the WHERE and ORDER BY with `sql.placeholder(name)` for every value. */
  build(): { where: SQL | undefined; order: SQL[] };
  /** The placeholders' values on this call (`limit` and `offset` are added from the page). */
  values: Record<string, unknown>;
}

/**
 * The page statement of `shape`, prepared with its own row mapping: the driver answers arrays
 * (n, since?, then the table's columns in order) and each column's value goes through the
 * column's own mapping (`mapFromDriverValue`), as drizzle's would, but for instants, which become
 * ISO text (`isoOfInstant`); drizzle's generic mapper asked `is(…)` of every field of every row
 * (a fifth of the CPU of a 50-row page).
 */
function preparePage<T extends PgTable>(
  db: Db,
  table: T,
  shape: ListShape,
  since: boolean,
  name: string | undefined,
): PreparedStatement<T> {
  const { where, order } = shape.build();
  const query = pageQuery(db, table, where, order, sql.placeholder('limit'), sql.placeholder('offset'), {
    since,
  });
  // Each column's mapping: instants to ISO text, anything else as drizzle maps it.
  const columns = Object.entries(getTableColumns(table)).map(([key, column]) => ({
    key,
    notNull: column.notNull,
    map:
      is(column, PgTimestamp) && column.withTimezone
        ? isoOfInstant
        : (value: unknown) => column.mapFromDriverValue(value),
  }));
  const first = since ? 2 : 1;
  // A page row whose NOT NULL column is null is the empty side of the lateral join: no row.
  const present =
    first +
    Math.max(
      0,
      columns.findIndex((column) => column.notNull),
    );
  const toRows = (found: unknown[][]): PreparedPage<T> => {
    const rows: IsoRow<T['$inferSelect']>[] = [];
    for (const r of found) {
      if (r[present] === null) continue;
      const row: Record<string, unknown> = {};
      for (let i = 0; i < columns.length; i++) {
        const column = columns[i]!;
        const value = r[first + i];
        row[column.key] = value === null || value === undefined ? null : column.map(value);
      }
      rows.push(row as IsoRow<T['$inferSelect']>);
    }
    const head = found[0];
    return { rows, total: Number(head?.[0] ?? 0), since: since ? Number(head?.[1] ?? 0) : 0 };
  };
  return db._.session.prepareQuery(query.toSQL(), undefined, name, true, toRows) as PreparedStatement<T>;
}

/**
 * `listPage` of a shape: the same page and total, from a prepared statement (the SQL is built
 * once per shape). Only for lists without `extra` columns (those differ per caller).
 */
export async function listPagePrepared<T extends PgTable, Item>(
  db: Db,
  table: T,
  shape: ListShape,
  page: Page,
  toItem: (row: IsoRow<T['$inferSelect']>) => Item,
  options: Pick<ListOptions<Record<never, SQL.Aliased>>, 'since'> = {},
): Promise<ListedPage<Item, Record<never, SQL.Aliased>>> {
  const { limit, offset } = pageOf(page);
  let shapes = prepared.get(db);
  if (!shapes) {
    shapes = new Map();
    prepared.set(db, shapes);
  }
  const since = options.since === true;
  const key = `${shape.key}|${since}`;
  let statement = shapes.get(key) as PreparedStatement<T> | undefined;
  if (!statement) {
    if (shapes.size >= MAX_SHAPES) {
      // Too many shapes: this one is built for this call alone and runs unnamed.
      statement = preparePage(db, table, shape, since, undefined);
    } else {
      statement = preparePage(db, table, shape, since, `portal_list_${++statementCount}`);
      shapes.set(key, statement as PreparedStatement<PgTable>);
    }
  }
  const found = await statement.execute({ ...shape.values, limit, offset });
  return {
    items: found.rows.map(toItem),
    total: found.total,
    extras: found.rows.map(() => ({})),
    since: found.since,
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
