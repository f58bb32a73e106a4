import { and, asc, desc, eq, gt, lt, type SQL } from 'drizzle-orm';
import { type AuditQuery, auditFilter } from '../audit/rules.ts';
import type { Actor } from '../auth/actor.ts';
import { iso } from '../auth/actor.ts';
import type { Db } from '../db/database.ts';
import { changeLog } from '../db/schema/change-log.ts';
import { tasks } from '../db/schema/tasks.ts';
import { users } from '../db/schema/users.ts';
import { forbidden } from '../errors.ts';
import { type TaskQuery, taskFilter, toTask } from '../tasks/rules.ts';

/**
 * CSV exports of every matching row, streamed: the rows are read in batches by keyset on `id`
 * (no OFFSET, no row cap), and a batch is read only when the client has taken the previous one,
 * so memory stays flat whatever the size, and a client that goes away stops the reading.
 */

export const EXPORT_BATCH = 2000;

/** Cells a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR) are made inert with `'`. */
const FORMULA = /^[=+\-@\t\r]/;

/** One RFC 4180 cell: null is empty, objects are JSON, quoted when it holds `"`, `,`, CR or LF. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (FORMULA.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvRow = (cells: readonly unknown[]) => `${cells.map(csvCell).join(',')}\r\n`;

export interface CsvSource<Row> {
  header: readonly string[];
  /** The rows after `cursor` (undefined: from the start), at most `limit`, in keyset order. */
  batch(cursor: number | undefined, limit: number): Promise<Row[]>;
  cursorOf(row: Row): number;
  cells(row: Row): unknown[];
}

/** Observes the batches of an export (tests count them; nothing else needs it). */
export interface ExportProbe {
  onBatch?(rows: number): void;
}

/**
 * The CSV bytes of a source, one batch per pull; cancelling stops before the next query. `first`:
 * the first batch, already read (`startCsv`); the stream goes on after it.
 */
export function csvStream<Row>(
  source: CsvSource<Row>,
  probe: ExportProbe = {},
  first?: Row[],
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: number | undefined;
  let done = false;
  let cancelled = false;
  let inFlight: Promise<void> = Promise.resolve();
  const take = (rows: Row[], controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (rows.length > 0) {
      cursor = source.cursorOf(rows[rows.length - 1]!);
      controller.enqueue(encoder.encode(rows.map((r) => csvRow(source.cells(r))).join('')));
    }
    if (rows.length < EXPORT_BATCH) {
      done = true;
      controller.close();
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(csvRow(source.header)));
        if (first) take(first, controller);
      },
      pull(controller) {
        if (done || cancelled) return;
        inFlight = (async () => {
          const rows = await source.batch(cursor, EXPORT_BATCH);
          probe.onBatch?.(rows.length);
          if (cancelled) return;
          take(rows, controller);
        })();
        return inFlight;
      },
      async cancel() {
        cancelled = true;
        // Resolves once the batch under way (if any) is back: no query starts after this.
        await inFlight.catch(() => undefined);
      },
    },
    // Nothing is read ahead of the client: one batch in memory at most.
    { highWaterMark: 0 },
  );
}

/**
 * `csvStream` with its first batch read before the answer starts. On a read that runs beside the
 * sign-in check (docs/decisions/0021-sign-in-check-beside-the-read.md) that batch travels with the
 * check, one round trip instead of two in a row; it is held, like any answer, until the check
 * confirms the user, and thrown away with the answer when it does not. Still one batch in memory
 * at most (the next is read when the client has taken this one), and a query that fails now is an
 * error status, not a cut-off 200.
 */
export async function startCsv<Row>(
  source: CsvSource<Row>,
  probe: ExportProbe = {},
): Promise<ReadableStream<Uint8Array>> {
  const first = await source.batch(undefined, EXPORT_BATCH);
  probe.onBatch?.(first.length);
  return csvStream(source, probe, first);
}

export const TASK_COLUMNS = [
  'id',
  'project_id',
  'title',
  'status',
  'priority',
  'assignee_id',
  'due_date',
  'created_at',
  'updated_at',
  'completed_at',
] as const;

/** Every task `query` selects in the actor's scope (as GET /api/tasks), by id. */
export function taskCsvSource(
  db: Db,
  actor: Actor,
  query: Omit<TaskQuery, 'sort' | 'limit' | 'offset'>,
): CsvSource<ReturnType<typeof toTask>> {
  const where = taskFilter(db, actor, query);
  return {
    header: TASK_COLUMNS,
    async batch(cursor, limit) {
      const rows = await db
        .select()
        .from(tasks)
        .where(and(where, cursor === undefined ? undefined : gt(tasks.id, cursor)))
        .orderBy(asc(tasks.id))
        .limit(limit);
      return rows.map(toTask);
    },
    cursorOf: (task) => task.id,
    cells: (task) => TASK_COLUMNS.map((column) => task[column]),
  };
}

export const AUDIT_COLUMNS = [
  'id',
  'at',
  'entity',
  'op',
  'row_id',
  'actor_id',
  'actor_username',
  'before',
  'after',
  'affected_user_ids',
] as const;

interface AuditCsvRow {
  id: number;
  cells: unknown[];
}

/** Every change-log entry `query` selects, newest first (as GET /api/audit); admins only. */
export function auditCsvSource(
  db: Db,
  actor: Actor,
  query: Omit<AuditQuery, 'limit' | 'offset'>,
): CsvSource<AuditCsvRow> {
  if (actor.role !== 'admin') throw forbidden('Only admins can read the audit log');
  const where: SQL | undefined = auditFilter(query);
  return {
    header: AUDIT_COLUMNS,
    async batch(cursor, limit) {
      const rows = await db
        .select({ entry: changeLog, username: users.username })
        .from(changeLog)
        .leftJoin(users, eq(users.id, changeLog.actor_id))
        .where(and(where, cursor === undefined ? undefined : lt(changeLog.id, cursor)))
        .orderBy(desc(changeLog.id))
        .limit(limit);
      return rows.map(({ entry, username }) => ({
        id: entry.id,
        cells: [
          entry.id,
          iso(entry.at),
          entry.table_name,
          entry.op,
          entry.row_id,
          entry.actor_id,
          username,
          entry.before,
          entry.after,
          entry.affected_user_ids,
        ],
      }));
    },
    cursorOf: (row) => row.id,
    cells: (row) => row.cells,
  };
}
