import { sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor.ts';
import type { Db } from '../db/database.ts';
import type { AppDeps } from '../http/context.ts';
import { CURSOR } from '../realtime/feed.ts';
import { computeDashboard, type Dashboard } from './metrics.ts';

/**
 * Whether the change log holds anything the realtime leader has not published yet: a change at or
 * above its persisted transaction boundary (src/realtime/feed.ts), which it persists only after
 * publishing every document the changes before it touched. One index probe, prepared once per
 * database handle.
 */
const pendingStatements = new WeakMap<Db, ReturnType<typeof preparePending>>();
function preparePending(db: Db) {
  return db
    .select({
      pending: sql<boolean>`exists (select 1 from change_log
        where tx_id >= coalesce((select tx_boundary from realtime_cursor where name = ${CURSOR}), 0))`,
    })
    .from(sql`(select 1) as one`)
    .prepare('portal_changes_pending');
}
async function changesPending(db: Db): Promise<boolean> {
  let statement = pendingStatements.get(db);
  if (!statement) {
    statement = preparePending(db);
    pendingStatements.set(db, statement);
  }
  const [row] = await statement.execute();
  return row?.pending !== false;
}

const utcToday = () => new Date().toISOString().slice(0, 10);

/** A stored document of the role the sign-in check read on this request, and of today. */
const usable = (stored: Dashboard | undefined, actor: Actor): stored is Dashboard =>
  stored !== undefined &&
  stored.role === actor.role &&
  Object.keys(stored.completed_by_day).at(-1) === utcToday();

/**
 * The caller's dashboard for GET /api/metrics and /dashboard: the document the realtime engine
 * keeps for them when there is one (someone has the portal open) and it is current, else computed
 * now (one statement, beside the sign-in check when no document is kept; a kept one costs the
 * freshness probe, also beside the check). Current means: nothing in the change log the leader has not published yet,
 * the role the sign-in check read on this request, and today's date (a document from yesterday
 * counts overdue tasks and the last fourteen days differently). A notification marked read is not
 * in the change log; marking it refreshes the stored document before answering
 * (`refreshRealtime`), so a following read sees it.
 */
export async function currentDashboard(deps: AppDeps, actor: Actor): Promise<Dashboard | undefined> {
  const db = deps.database.db;
  if (!deps.storedDashboard) return computeDashboard(db, actor.id);
  // Nobody keeps a document for this user (no portal open): compute it at once. The look at the
  // store costs no database round trip, so the one statement still travels beside the sign-in
  // check (docs/decisions/0021-sign-in-check-beside-the-read.md).
  // A document of another role or day would be refused below anyway.
  if (!usable(await deps.storedDashboard(actor.id), actor)) return computeDashboard(db, actor.id);
  // The order matters: "nothing pending" first, the stored document read again second. Every
  // change committed before the check is then either pending (→ computed now) or already in the
  // store when it is read. Read the other way round (the document from the look above), the leader
  // could publish and move its boundary between the two reads, and a document from before the
  // change would pass as current.
  if (await changesPending(db)) return computeDashboard(db, actor.id);
  const stored = await deps.storedDashboard(actor.id);
  return usable(stored, actor) ? stored : computeDashboard(db, actor.id);
}
