import { and, count, eq, exists, getTableColumns, ilike, ne, or, type SQL, sql } from 'drizzle-orm';
import { type Actor, actingAs, iso, likePattern, type Page, writeAs } from '../auth/actor.ts';
import { type Db, insertWhere } from '../db/database.ts';
import { type Extra, type ListOptions, listPage } from '../db/list.ts';
import { shownName } from '../db/pickers.ts';
import { type ProjectRow, projects } from '../db/schema/projects.ts';
import { tasks } from '../db/schema/tasks.ts';
import { users } from '../db/schema/users.ts';
import { orderBy } from '../db/sort.ts';
import {
  assertIfMatch,
  etagFor,
  etagOf,
  type IfMatch,
  representationText,
  rowVersion,
  versionMatches,
  withEtag,
} from '../db/versions.ts';
import { forbidden, invalid, notFound } from '../errors.ts';

export function toProject(row: ProjectRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    owner_id: row.owner_id,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** Which projects an actor can see: admin all, manager owned, user those holding tasks assigned to them. */
export function visibleProjects(db: Db, actor: Actor): SQL | undefined {
  if (actor.role === 'admin') return undefined;
  if (actor.role === 'manager') return eq(projects.owner_id, actor.id);
  return exists(
    db
      .select({ one: tasks.id })
      .from(tasks)
      .where(and(eq(tasks.project_id, projects.id), eq(tasks.assignee_id, actor.id))),
  );
}

/** May this actor change the project (and the tasks in it)? Admins and the owner. */
export const canManage = (actor: Actor, project: Pick<ProjectRow, 'owner_id'>) =>
  actor.role === 'admin' || (actor.role === 'manager' && project.owner_id === actor.id);

/** The project if the actor can see it; 404 otherwise, so its existence does not leak. */
export async function findVisibleProject(
  db: Db,
  actor: Actor,
  id: number,
  lock = false,
): Promise<VersionedProject> {
  const q = db
    .select({ row: projects, version: rowVersion(projects) })
    .from(projects)
    .where(and(eq(projects.id, id), visibleProjects(db, actor)));
  const [found] = lock ? await q.for('update') : await q;
  if (!found) throw notFound('Project');
  return { ...found.row, version: found.version };
}

type VersionedProject = ProjectRow & { version: string };

/** The API representation with its ETag attached (versions.ts). */
const versionedProject = (row: VersionedProject) => {
  const project = toProject(row);
  return withEtag(project, etagFor('project', row.version, project));
};

/** 412 unless the locked row still matches `ifMatch` (checked and written in one transaction). */
function assertProjectIfMatch(ifMatch: IfMatch | undefined, current: VersionedProject) {
  const project = versionedProject(current);
  assertIfMatch(ifMatch, etagOf(project)!, project);
}

export interface ProjectQuery extends Page {
  q?: string | undefined;
  owner_id?: number | undefined;
  sort?: string | undefined;
}

export async function listProjects<E extends Extra = Record<never, SQL.Aliased>>(
  db: Db,
  actor: Actor,
  query: ProjectQuery,
  options: ListOptions<E> = {},
) {
  const where = and(
    visibleProjects(db, actor),
    query.q ? ilike(projects.name, likePattern(query.q)) : undefined,
    query.owner_id ? eq(projects.owner_id, query.owner_id) : undefined,
  );
  const order = orderBy(
    query.sort,
    {
      name: projects.name,
      created_at: projects.created_at,
      updated_at: projects.updated_at,
      id: projects.id,
    },
    'name',
    projects.id,
  );
  return listPage(db, projects, where, order, query, toProject, options);
}

/** One project; `etagOf(project)` is its ETag. */
export async function getProject(db: Db, actor: Actor, id: number) {
  return versionedProject(await findVisibleProject(db, actor, id));
}

/** A project owner must be an active manager or admin. */
async function assertCanOwn(db: Db, ownerId: number) {
  const [owner] = await db
    .select({ role: users.role, active: users.active })
    .from(users)
    .where(eq(users.id, ownerId));
  if (!owner?.active || owner.role === 'user') {
    throw invalid('owner_id', 'must be an active manager or admin');
  }
}

export interface NewProject {
  name: string;
  description?: string | undefined;
  owner_id?: number | undefined;
}

/*
 * Writes are one autocommit statement each, checks in its WHERE (decision 0027, as for tasks):
 * when it writes nothing, the locked path (the former transaction) tells which refusal applies.
 */

/** The text `JSON.stringify(toProject(row))` gives, in SQL: the representation a project's ETag hashes. */
const projectText = representationText([
  ['id', projects.id, 'number'],
  ['name', projects.name, 'string'],
  ['description', projects.description, 'string'],
  ['owner_id', projects.owner_id, 'number'],
  ['created_at', projects.created_at, 'timestamp'],
  ['updated_at', projects.updated_at, 'timestamp'],
]);

/** The project in scope is still the version If-Match names (no condition for `*` or none). */
const projectMatches = (ifMatch: IfMatch | undefined) =>
  versionMatches(ifMatch, 'project', projects, projectText);

/** `ownerId` is an active manager or admin. */
function canOwn(db: Db, ownerId: number): SQL {
  return exists(
    db
      .select({ one: sql`1` })
      .from(users)
      .where(and(eq(users.id, ownerId), eq(users.active, true), ne(users.role, 'user'))),
  );
}

/** The project in scope is one `actor` manages (admins: any; managers: their own). */
const managedBy = (actor: Actor): SQL | undefined =>
  actor.role === 'admin'
    ? undefined
    : actor.role === 'manager'
      ? eq(projects.owner_id, actor.id)
      : sql`false`;

export async function createProject(db: Db, actor: Actor, input: NewProject) {
  if (actor.role === 'user') throw forbidden('Only admins and managers can create projects');
  if (actor.role === 'manager' && input.owner_id !== undefined && input.owner_id !== actor.id) {
    throw forbidden('Managers always own the projects they create');
  }
  const ownerId = input.owner_id ?? actor.id;
  const values = { name: input.name, description: input.description ?? '', owner_id: ownerId };
  const created = await insertWhere(
    db,
    projects,
    values,
    and(actingAs(actor.id), ownerId === actor.id ? undefined : canOwn(db, ownerId)),
  );
  if (created) return toProject(created);
  const row = await writeAs(db, actor.id, async (tx) => {
    if (ownerId !== actor.id) await assertCanOwn(tx, ownerId);
    const [inserted] = await tx.insert(projects).values(values).returning();
    return inserted!;
  });
  return toProject(row);
}

export interface ProjectPatch {
  name?: string | undefined;
  description?: string | undefined;
  owner_id?: number | undefined;
}

export async function updateProject(
  db: Db,
  actor: Actor,
  id: number,
  patch: ProjectPatch,
  ifMatch?: IfMatch,
) {
  const fields = Object.keys(patch).filter((k) => patch[k as keyof ProjectPatch] !== undefined);
  const [updated] =
    fields.length === 0
      ? [] // nothing to set: the locked path answers as it always did
      : await db
          .update(projects)
          .set(patch)
          .where(
            and(
              eq(projects.id, id),
              actingAs(actor.id),
              managedBy(actor),
              projectMatches(ifMatch),
              patch.owner_id === undefined
                ? undefined
                : or(
                    eq(projects.owner_id, patch.owner_id),
                    actor.role === 'admin' ? canOwn(db, patch.owner_id) : sql`false`,
                  ),
            ),
          )
          .returning({ ...getTableColumns(projects), version: rowVersion(projects) });
  return versionedProject(updated ?? (await updateProjectLocked(db, actor, id, patch, ifMatch)));
}

async function updateProjectLocked(db: Db, actor: Actor, id: number, patch: ProjectPatch, ifMatch?: IfMatch) {
  return writeAs(db, actor.id, async (tx) => {
    const current = await findVisibleProject(tx, actor, id, true);
    if (!canManage(actor, current)) throw forbidden('Only the project owner or an admin can change it');
    assertProjectIfMatch(ifMatch, current);
    if (patch.owner_id !== undefined && patch.owner_id !== current.owner_id) {
      if (actor.role !== 'admin') throw forbidden('Only admins can hand a project to another owner');
      await assertCanOwn(tx, patch.owner_id);
    }
    const [updated] = await tx
      .update(projects)
      .set(patch)
      .where(eq(projects.id, id))
      .returning({ ...getTableColumns(projects), version: rowVersion(projects) });
    return updated!;
  });
}

export async function deleteProject(db: Db, actor: Actor, id: number, ifMatch?: IfMatch) {
  // Its tasks go with it (ON DELETE CASCADE), in the same statement's transaction, so the
  // triggers log each of them with the same actor.
  const [deleted] = await db
    .delete(projects)
    .where(and(eq(projects.id, id), actingAs(actor.id), managedBy(actor), projectMatches(ifMatch)))
    .returning({ id: projects.id });
  if (deleted) return;
  await writeAs(db, actor.id, async (tx) => {
    const current = await findVisibleProject(tx, actor, id, true);
    if (!canManage(actor, current)) throw forbidden('Only the project owner or an admin can delete it');
    assertProjectIfMatch(ifMatch, current);
    await tx.delete(projects).where(eq(projects.id, id));
  });
}

/** What deleting a project would remove, counted now, for the confirmation read first. */
export async function projectDeletionImpact(db: Db, actor: Actor, id: number) {
  const project = await findVisibleProject(db, actor, id);
  if (!canManage(actor, project)) throw forbidden('Only the project owner or an admin can delete it');
  const [counted] = await db
    .select({
      all: count(),
      open: sql<number>`count(*) filter (where ${tasks.status} <> 'done')`.mapWith(Number),
    })
    .from(tasks)
    .where(eq(tasks.project_id, id));
  return { project: toProject(project), tasks: counted?.all ?? 0, openTasks: counted?.open ?? 0 };
}

/**
 * Hands every project `fromId` owns to `toId` (an active manager or admin) in one transaction:
 * all of them or none. Admins only. Each project's change is logged by the audit triggers with
 * the admin as its actor, like any other write. Answers the ids of the projects moved.
 */
export async function handOverProjects(db: Db, actor: Actor, fromId: number, toId: number) {
  if (actor.role !== 'admin') throw forbidden('Only admins can hand projects to another owner');
  return writeAs(db, actor.id, async (tx) => {
    const [from] = await tx.select({ id: users.id }).from(users).where(eq(users.id, fromId));
    if (!from) throw notFound('User');
    if (toId === fromId) throw invalid('owner_id', 'must be someone other than the current owner');
    await assertCanOwn(tx, toId);
    // Locked in id order, so two hand-overs at once cannot deadlock, and none is missed.
    const owned = await tx
      .select({ id: projects.id })
      .from(projects)
      .where(eq(projects.owner_id, fromId))
      .orderBy(projects.id)
      .for('update');
    if (owned.length === 0) return [];
    const moved = await tx
      .update(projects)
      .set({ owner_id: toId })
      .where(eq(projects.owner_id, fromId))
      .returning({ id: projects.id });
    return moved.map((m) => m.id).sort((a, b) => a - b);
  });
}

/** A project with its owner's name as shown (for pages that show who owns it). */
export async function projectWithOwner(db: Db, projectId: number) {
  const [row] = await db
    .select({
      id: projects.id,
      name: projects.name,
      owner_id: projects.owner_id,
      username: users.username,
      display_name: users.display_name,
    })
    .from(projects)
    .innerJoin(users, eq(users.id, projects.owner_id))
    .where(eq(projects.id, projectId));
  return row && { id: row.id, name: row.name, owner_id: row.owner_id, owner: shownName(row) };
}
