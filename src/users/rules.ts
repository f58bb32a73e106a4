import { and, count, eq, getTableColumns, ilike, notExists, or, type SQL, sql } from 'drizzle-orm';
import { type Actor, actingAs, iso, likePattern, type Page, writeAs } from '../auth/actor.ts';
import { hashPassword, passwordProblem } from '../auth/passwords.ts';
import { revokeAllSessions } from '../auth/sessions.ts';
import { type Db, insertWhere, rowOf, query as rows } from '../db/database.ts';
import { type Extra, type ListOptions, listPage } from '../db/list.ts';
import { authSessions } from '../db/schema/auth-sessions.ts';
import type { Role } from '../db/schema/enums.ts';
import { projects } from '../db/schema/projects.ts';
import { tasks } from '../db/schema/tasks.ts';
import { type UserRow, users } from '../db/schema/users.ts';
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
import { forbidden, invalid, notFound, PortalError } from '../errors.ts';

/** The public shape of a user: never the password hash. */
export function toUser(row: UserRow) {
  return {
    id: row.id,
    username: row.username,
    display_name: row.display_name,
    role: row.role,
    active: row.active,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}
export type PublicUser = ReturnType<typeof toUser>;

/** Admins manage users; managers may read them (to pick assignees); users may not. */
function assertCanRead(actor: Actor) {
  if (actor.role === 'user') throw forbidden('Only admins and managers can see other users');
}
function assertAdmin(actor: Actor) {
  if (actor.role !== 'admin') throw forbidden('Only admins can manage users');
}

export interface UserQuery extends Page {
  q?: string | undefined;
  role?: Role | undefined;
  active?: boolean | undefined;
  sort?: string | undefined;
}

export async function listUsers<E extends Extra = Record<never, SQL.Aliased>>(
  db: Db,
  actor: Actor,
  query: UserQuery,
  options: ListOptions<E> = {},
) {
  assertCanRead(actor);
  const conditions: (SQL | undefined)[] = [
    query.q
      ? or(
          // Usernames are searched by their normalised form, as they are compared at sign-in.
          sql`strpos(username_key(${users.username}), username_key(${query.q})) > 0`,
          ilike(users.display_name, likePattern(query.q)),
        )
      : undefined,
    query.role ? eq(users.role, query.role) : undefined,
    query.active === undefined ? undefined : eq(users.active, query.active),
  ];
  const where = and(...conditions);
  const order = orderBy(
    query.sort,
    { username: users.username, created_at: users.created_at, role: users.role, id: users.id },
    'username',
    users.id,
  );
  return listPage(db, users, where, order, query, toUser, options);
}

type VersionedUser = UserRow & { version: string };

/** The public representation with its ETag attached (versions.ts). */
const versionedUser = (row: VersionedUser) => {
  const user = toUser(row);
  return withEtag(user, etagFor('user', row.version, user));
};

async function findUser(db: Db, id: number, lock = false): Promise<VersionedUser> {
  const q = db
    .select({ row: users, version: rowVersion(users) })
    .from(users)
    .where(eq(users.id, id));
  const [found] = lock ? await q.for('update') : await q;
  if (!found) throw notFound('User');
  return { ...found.row, version: found.version };
}

/** 412 unless the locked row still matches `ifMatch` (checked and written in one transaction). */
function assertUserIfMatch(ifMatch: IfMatch | undefined, current: VersionedUser) {
  const user = versionedUser(current);
  assertIfMatch(ifMatch, etagOf(user)!, user);
}

/** One user; `etagOf(user)` is its ETag. */
export async function getUser(db: Db, actor: Actor, id: number) {
  assertCanRead(actor);
  return versionedUser(await findUser(db, id));
}

/** Any signed-in user may read themself. */
export async function getUserById(db: Db, id: number) {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  if (!row) throw notFound('User');
  return toUser(row);
}

/**
 * The one normalisation of usernames (NFKC, then the database's lower(), then NFKC again), done by
 * the database function `username_key` so that it is the same for the portal, the unique index
 * and anyone writing with psql. Two usernames with one key are one account.
 */
export async function usernameKey(db: Db, username: string): Promise<string> {
  const [row] = await rows<{ key: string }>(db, sql`select username_key(${username}) as key`);
  return row!.key;
}

/**
 * A sign-in's lookup in one round trip: the username's key (for the throttle, which is asked
 * before the password is checked) and the user holding it, if any.
 */
export async function findUserForSignIn(
  db: Db,
  username: string,
): Promise<{ key: string; user: UserRow | undefined }> {
  const [row] = await db
    .select({ key: sql<string>`username_key(${username})`, user: users })
    .from(sql`(select 1) as one`)
    .leftJoin(users, sql`username_key(${users.username}) = username_key(${username})`);
  return { key: row!.key, user: row!.user ?? undefined };
}

export async function findUserById(db: Db, id: number): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row;
}

/** Ids of users an admin asked to change their password (the users page shows it). */
export async function mustChangeIds(db: Db): Promise<Set<number>> {
  const rows = await db.select({ id: users.id }).from(users).where(eq(users.must_change_password, true));
  return new Set(rows.map((r) => r.id));
}

export async function findUserByUsername(db: Db, username: string): Promise<UserRow | undefined> {
  const [row] = await db
    .select()
    .from(users)
    .where(sql`username_key(${users.username}) = username_key(${username})`);
  return row;
}

export interface NewUser {
  username: string;
  password: string;
  role: Role;
  display_name?: string | undefined;
}

export async function createUser(db: Db, actor: Actor | null, input: NewUser) {
  if (actor) assertAdmin(actor);
  const problem = passwordProblem(input.password, input.username);
  if (problem) throw invalid('password', problem);
  const password_hash = await hashPassword(input.password);
  const values = {
    username: input.username,
    display_name: input.display_name ?? '',
    role: input.role,
    password_hash,
  };
  // One statement (decision 0027): the actor setting in its WHERE, nothing else to check.
  const created = await insertWhere(db, users, values, actor ? actingAs(actor.id) : undefined);
  return toUser(created!);
}

export interface UserPatch {
  role?: Role | undefined;
  password?: string | undefined;
  display_name?: string | undefined;
  active?: boolean | undefined;
  must_change_password?: boolean | undefined;
}

/** The text `JSON.stringify(toUser(row))` gives, in SQL: the representation a user's ETag hashes. */
const userText = representationText([
  ['id', users.id, 'number'],
  ['username', users.username, 'string'],
  ['display_name', users.display_name, 'string'],
  ['role', users.role, 'string'],
  ['active', users.active, 'boolean'],
  ['created_at', users.created_at, 'timestamp'],
  ['updated_at', users.updated_at, 'timestamp'],
]);

/** The user in scope is still the version If-Match names (no condition for `*` or none). */
const userMatches = (ifMatch: IfMatch | undefined) => versionMatches(ifMatch, 'user', users, userText);

/** The user in scope owns no project. */
const ownsNothing = (db: Db) =>
  notExists(db.select({ one: sql`1` }).from(projects).where(eq(projects.owner_id, users.id)));

/*
 * Changes and deletions are one autocommit statement each when they can be (decision 0027): the
 * actor setting, If-Match and the "owns no project" rule in the write's WHERE. When it writes
 * nothing, the locked path (the former transaction) tells which refusal applies. A new password
 * always takes the locked path: it is checked against the current username in JavaScript.
 */
export async function updateUser(db: Db, actor: Actor, id: number, patch: UserPatch, ifMatch?: IfMatch) {
  assertAdmin(actor);
  const set = {
    ...(patch.role === undefined ? {} : { role: patch.role }),
    ...(patch.display_name === undefined ? {} : { display_name: patch.display_name }),
    ...(patch.active === undefined ? {} : { active: patch.active }),
    ...(patch.must_change_password === undefined ? {} : { must_change_password: patch.must_change_password }),
  };
  const demotesSelf = id === actor.id && ((patch.role && patch.role !== 'admin') || patch.active === false);
  if (patch.password === undefined && !demotesSelf && Object.keys(set).length > 0) {
    const change = db
      .update(users)
      .set(set)
      .where(
        and(
          eq(users.id, id),
          actingAs(actor.id),
          userMatches(ifMatch),
          patch.role === 'user' ? or(eq(users.role, 'user'), ownsNothing(db)) : undefined,
        ),
      )
      .returning({ ...getTableColumns(users), version: sql<string>`${users}.xmin::text`.as('version') });
    // Deactivation ends every sign-in (so reactivating the account later does not revive old
    // tokens): in the same statement, sessions of the user it changed, or of nobody.
    let changed: VersionedUser | undefined;
    if (patch.active === false) {
      const [raw] = await rows<Record<string, unknown>>(
        db,
        // (drizzle puts an embedded query in parentheses itself.)
        sql`with changed as ${change},
          ended as (update ${authSessions} set ${sql.identifier(authSessions.revoked_at.name)} = now()
            where ${authSessions.user_id} in (select id from changed) and ${authSessions.revoked_at} is null)
          select * from changed`,
      );
      changed = raw && { ...rowOf(users, raw), version: String(raw.version) };
    } else {
      [changed] = await change;
    }
    if (changed) return versionedUser(changed);
  }
  return versionedUser(await updateUserLocked(db, actor, id, patch, ifMatch));
}

async function updateUserLocked(db: Db, actor: Actor, id: number, patch: UserPatch, ifMatch?: IfMatch) {
  const password_hash = patch.password === undefined ? undefined : await hashPassword(patch.password);
  return writeAs(db, actor.id, async (tx) => {
    const current = await findUser(tx, id, true);
    assertUserIfMatch(ifMatch, current);
    if (patch.password !== undefined) {
      const problem = passwordProblem(patch.password, current.username);
      if (problem) throw invalid('password', problem);
    }
    if (id === actor.id && ((patch.role && patch.role !== 'admin') || patch.active === false)) {
      throw new PortalError('conflict', 'You cannot remove your own admin access; ask another admin');
    }
    if (patch.role === 'user' && current.role !== 'user')
      await assertOwnsNothing(tx, id, 'changing their role');
    const [updated] = await tx
      .update(users)
      .set({
        ...(patch.role === undefined ? {} : { role: patch.role }),
        ...(patch.display_name === undefined ? {} : { display_name: patch.display_name }),
        ...(patch.active === undefined ? {} : { active: patch.active }),
        ...(patch.must_change_password === undefined
          ? {}
          : { must_change_password: patch.must_change_password }),
        ...(password_hash === undefined ? {} : { password_hash }),
      })
      .where(eq(users.id, id))
      .returning({ ...getTableColumns(users), version: rowVersion(users) });
    // A reset password ends the user's other sign-ins: whoever knew the old one is out.
    if (password_hash !== undefined)
      await revokeAllSessions(tx, id, id === actor.id ? actor.sessionId : undefined);
    // Deactivation ends every sign-in, so reactivating the account later does not revive old tokens.
    if (patch.active === false) await revokeAllSessions(tx, id);
    return updated!;
  });
}

export async function deleteUser(db: Db, actor: Actor, id: number, ifMatch?: IfMatch) {
  assertAdmin(actor);
  if (id === actor.id)
    throw new PortalError('conflict', 'You cannot delete your own account; ask another admin');
  // Their tasks become unassigned through the foreign key (ON DELETE SET NULL), logged by the
  // triggers with the same actor.
  const [deleted] = await db
    .delete(users)
    .where(and(eq(users.id, id), actingAs(actor.id), userMatches(ifMatch), ownsNothing(db)))
    .returning({ id: users.id });
  if (deleted) return;
  await writeAs(db, actor.id, async (tx) => {
    const current = await findUser(tx, id, true);
    assertUserIfMatch(ifMatch, current);
    await assertOwnsNothing(tx, id, 'deleting them');
    await tx.delete(users).where(eq(users.id, id));
  });
}

/**
 * What deleting a user would do, counted now, for the confirmation an admin reads first: their
 * tasks (and how many are not done) become unassigned; projects they own block the deletion until
 * they are handed over.
 */
export async function userDeletionImpact(db: Db, actor: Actor, id: number) {
  assertAdmin(actor);
  const user = toUser(await findUser(db, id));
  const [assigned] = await db
    .select({
      all: count(),
      open: sql<number>`count(*) filter (where ${tasks.status} <> 'done')`.mapWith(Number),
    })
    .from(tasks)
    .where(eq(tasks.assignee_id, id));
  const [owned] = await db.select({ n: count() }).from(projects).where(eq(projects.owner_id, id));
  return {
    user,
    tasks: assigned?.all ?? 0,
    openTasks: assigned?.open ?? 0,
    ownedProjects: owned?.n ?? 0,
  };
}

/** How many projects each user owns (users owning none are absent). */
export async function ownedProjectCounts(db: Db): Promise<Map<number, number>> {
  const rows = await db
    .select({ owner: projects.owner_id, n: count() })
    .from(projects)
    .groupBy(projects.owner_id);
  return new Map(rows.map((r) => [r.owner, r.n]));
}

async function assertOwnsNothing(db: Db, userId: number, action: string) {
  const [owned] = await db.select({ n: count() }).from(projects).where(eq(projects.owner_id, userId));
  if (owned && owned.n > 0) {
    throw new PortalError(
      'conflict',
      `This user owns ${owned.n} project(s): reassign them before ${action}`,
      {
        owned_projects: owned.n,
      },
    );
  }
}
