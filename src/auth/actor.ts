import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.ts';
import type { Role } from '../db/schema/enums.ts';

/** The signed-in user a request acts for, as read from the database on this very request. */
export interface Actor {
  id: number;
  username: string;
  role: Role;
  sessionId: string;
}

/**
 * Runs `work` in a transaction whose writes the change-log triggers attribute to `actorId`
 * (a transaction-local setting, so it cannot leak to the next user of a pooled connection).
 */
export function writeAs<T>(db: Db, actorId: number | null, work: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    if (actorId !== null)
      await tx.execute(sql`select set_config('portal.actor_id', ${String(actorId)}, true)`);
    return work(tx as unknown as Db);
  });
}

/**
 * A condition that is always true and, once evaluated, has the change-log triggers attribute the
 * statement's writes to `actorId`: for a write that is one autocommit statement (decision 0027),
 * instead of BEGIN, `writeAs`'s set_config and COMMIT in three round trips of their own.
 *
 * An uncorrelated sub-select, so PostgreSQL runs it once, before the first row is written (a row
 * is written only once every condition of its WHERE held, this one included), and the statement
 * triggers run after the last. `true`: local to the statement's own implicit transaction, so the
 * setting cannot outlive it on a pooled connection.
 */
export function actingAs(actorId: number): SQL {
  return sql`(select set_config('portal.actor_id', ${String(actorId)}, true)) is not null`;
}

/** `%`, `_` and `\` match literally in a search string. */
export function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export const iso = (d: Date) => d.toISOString();
export const isoOrNull = (d: Date | null) => (d ? d.toISOString() : null);

export interface Page {
  limit?: number | undefined;
  offset?: number | undefined;
}

export const pageOf = (p: Page) => ({ limit: p.limit ?? 50, offset: p.offset ?? 0 });
