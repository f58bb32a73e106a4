import {
  getTableColumns,
  type InferInsertModel,
  type InferSelectModel,
  type SQL,
  sql,
  type Table,
} from 'drizzle-orm';
import type { PgColumn, PgDatabase, PgQueryResultHKT, PgTable } from 'drizzle-orm/pg-core';
import type * as schema from './schema/index.ts';
import { noteStatement } from './sign-in-writes.ts';

/** The drizzle handle every query goes through, whatever the driver. A transaction is one too. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DriverKind = 'pglite' | 'pg' | 'neon';

/**
 * The port every database driver implements (PGlite, node-postgres, Neon serverless).
 * Kept small on purpose: drizzle does the querying; a driver only opens, counts and closes.
 */
export interface Database {
  readonly kind: DriverKind;
  readonly db: Db;
  /** Statements issued through `db` since start: benchmarks and tests read it. */
  readonly stats: { statements: number };
  /**
   * A dedicated connection outside the pool, for LISTEN and for holding the leader's advisory
   * lock (PGlite: the one in-process connection).
   */
  openListener(): Promise<ListenerConnection>;
  close(): Promise<void>;
}

export interface ListenerConnection {
  query<T>(text: string, params?: unknown[]): Promise<T[]>;
  listen(channel: string, onNotify: () => void): Promise<void>;
  /** Called once when the connection is lost (database restart, network): open a new one. */
  onLost(callback: (error: Error) => void): void;
  close(): Promise<void>;
}

/** Rows of a raw SQL statement; every driver answers `{ rows }`. */
export async function query<T>(db: Db, statement: SQL): Promise<T[]> {
  const result = (await db.execute(statement)) as unknown as { rows: T[] };
  return result.rows;
}

export function statementCounter() {
  const stats = { statements: 0 };
  const logger = {
    logQuery(text: string) {
      stats.statements++;
      noteStatement(text);
    },
  };
  return { stats, logger };
}

/**
 * A row of a raw statement's `returning *` as drizzle's query builder would give it: keys by the
 * table's property names, each value through its column's mapping (timestamps to Date, …).
 */
export function rowOf<T extends Table>(table: T, raw: Record<string, unknown>): InferSelectModel<T> {
  const row: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = raw[column.name];
    row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return row as InferSelectModel<T>;
}

/**
 * `insert into table (…) select <values> where <condition> returning *` as one statement: the row
 * is written only if `where` holds (a permission, the actor setting), or nothing at all. Columns
 * left undefined take their defaults; every value is a parameter, cast to its column's type.
 * (drizzle's insert-select lists every column, so it cannot leave one to its default.)
 */
export async function insertWhere<T extends PgTable>(
  db: Db,
  table: T,
  values: Partial<InferInsertModel<T>>,
  where: SQL | undefined,
): Promise<InferSelectModel<T> | undefined> {
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  const given = Object.entries(values).filter(([key, value]) => value !== undefined && key in columns);
  const [raw] = await query<Record<string, unknown>>(
    db,
    sql`insert into ${table} (${sql.join(
      given.map(([key]) => sql.identifier(columns[key]!.name)),
      sql`, `,
    )}) select ${sql.join(
      given.map(
        ([key, value]) =>
          sql`${value === null ? null : columns[key]!.mapToDriverValue(value)}::${sql.raw(columns[key]!.getSQLType())}`,
      ),
      sql`, `,
    )}${where ? sql` where ${where}` : sql``} returning *`,
  );
  return raw && rowOf(table, raw);
}
