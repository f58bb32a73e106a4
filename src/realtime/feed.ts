import type { ListenerConnection } from '../db/database.ts';

export interface ChangeRow {
  id: number;
  tx_id: number;
  table_name: 'users' | 'projects' | 'tasks';
  op: 'insert' | 'update' | 'delete';
  row_id: number;
  affected_user_ids: number[];
  /** When the change's transaction started (ms since the epoch). */
  at_ms: number;
  after: Record<string, unknown> | null;
  before: Record<string, unknown> | null;
}

export const CURSOR = 'dashboards';
const BATCH = 5000;
/** Changes deleted per retention statement. */
export const PRUNE_LIMIT = 10_000;

/**
 * Reads the change log past a persisted cursor. The cursor is a *transaction boundary*, not a
 * row id: ids are handed out before commit, so a row with a smaller id can become visible after
 * one with a larger id. Every transaction below the snapshot's xmin has finished, so reading
 * `tx_id >= boundary` and then moving the boundary to xmin never skips a committed change.
 * Rows of transactions at or above xmin that were already visible are read again on the next
 * pass; `seen` drops those repeats. See docs/decisions/0006-change-feed-cursor.md.
 */
export class ChangeFeed {
  #boundary: number | undefined;
  #persisted: number | undefined;
  readonly #seen = new Map<number, number>(); // change id → tx id, for rows at or above the boundary

  constructor(readonly connection: ListenerConnection) {}

  async #load(): Promise<number> {
    if (this.#boundary !== undefined) return this.#boundary;
    const [row] = await this.connection.query<{ tx_boundary: string }>(
      'select tx_boundary::text from realtime_cursor where name = $1',
      [CURSOR],
    );
    this.#boundary = row ? Number(row.tx_boundary) : 0;
    this.#persisted = this.#boundary;
    return this.#boundary;
  }

  /** New changes since the last read (possibly none). One statement. */
  async read(): Promise<ChangeRow[]> {
    const boundary = await this.#load();
    // One statement, so the rows and the xmin come from the same snapshot.
    const rows = await this.connection.query<ChangeRow & { xmin: string; id: string; tx_id: string }>(
      `with s as (select txid_snapshot_xmin(txid_current_snapshot()) as xmin)
       select s.xmin::text as xmin, c.id::text as id, c.tx_id::text as tx_id, c.table_name, c.op, c.row_id,
              (extract(epoch from c.at) * 1000)::float8 as at_ms,
              c.affected_user_ids, c.before, c.after
         from s left join lateral (
           select * from change_log where tx_id >= $1 order by tx_id, id limit ${BATCH}
         ) c on true`,
      [boundary],
    );
    const xmin = Number(rows[0]?.xmin ?? boundary);
    const changes = rows
      .filter((r) => r.id !== null)
      .map((r) => ({ ...r, id: Number(r.id), tx_id: Number(r.tx_id), at_ms: Number(r.at_ms) }));
    const full = changes.length >= BATCH;
    // A full page may stop inside a transaction: resume at its id (repeats are dropped below).
    const next = full ? changes[changes.length - 1]!.tx_id : Math.max(boundary, xmin);
    const fresh = changes.filter((c) => !this.#seen.has(c.id));
    for (const c of changes) this.#seen.set(c.id, c.tx_id);
    for (const [id, tx] of this.#seen) if (tx < next) this.#seen.delete(id);
    this.#boundary = next;
    return fresh;
  }

  /**
   * Deletes up to `limit` changes older than `days` that every reader is past (below the
   * persisted boundary). Answers how many went; the BRIN index on `at` keeps this cheap.
   */
  async prune(days: number, limit = PRUNE_LIMIT): Promise<number> {
    await this.#load();
    const [row] = await this.connection.query<{ n: string }>(
      `with gone as (
         delete from change_log where id in (
           select id from change_log
            where at < now() - make_interval(days => $1::int) and tx_id < $2::bigint
            limit ${limit})
         returning 1)
       select count(*)::text as n from gone`,
      [days, this.#persisted ?? 0],
    );
    return Number(row?.n ?? 0);
  }

  /** Forgets what was read since the last persist: a batch that failed to publish is read again. */
  rewind() {
    this.#boundary = this.#persisted;
    this.#seen.clear();
  }

  /** Whether a full page was just read (read again at once). */
  get boundary() {
    return this.#boundary ?? 0;
  }

  /** Persists the boundary after the changes read so far have been published. */
  async persist(): Promise<void> {
    if (this.#boundary === undefined || this.#boundary === this.#persisted) return;
    await this.connection.query(
      `insert into realtime_cursor (name, tx_boundary) values ($1, $2)
       on conflict (name) do update set tx_boundary = greatest(realtime_cursor.tx_boundary, excluded.tx_boundary), updated_at = now()`,
      [CURSOR, this.#boundary],
    );
    this.#persisted = this.#boundary;
  }
}
