import { and, asc, eq, sql } from 'drizzle-orm';
import type { Actor } from '../auth/actor.ts';
import { visibleProjects } from '../projects/rules.ts';
import type { Db } from './database.ts';
import { projects } from './schema/projects.ts';
import { users } from './schema/users.ts';

/** What a person is called on screen: the display name, else the username. */
export const shownName = (u: { username: string; display_name: string }) => u.display_name || u.username;

/** A picker's label for a person: what is shown, with the username beside a display name. */
export const personLabel = (u: { username: string; display_name: string }) =>
  u.display_name && u.display_name !== u.username ? `${u.display_name} (${u.username})` : u.username;

export const PICKER_LIMIT = 500;

/**
 * Projects the actor can see, for pickers and filters: sorted by name, each with its owner's name,
 * so that two projects of the same name can be told apart.
 */
export async function projectChoices(db: Db, actor: Actor, only?: (p: { owner_id: number }) => boolean) {
  const rows = await db
    .select({
      id: projects.id,
      name: projects.name,
      owner_id: projects.owner_id,
      owner_username: users.username,
      owner_display: users.display_name,
    })
    .from(projects)
    .innerJoin(users, eq(users.id, projects.owner_id))
    .where(visibleProjects(db, actor))
    .orderBy(asc(sql`lower(${projects.name})`), asc(projects.id))
    .limit(PICKER_LIMIT);
  return rows
    .filter((p) => !only || only(p))
    .map((p) => ({
      id: p.id,
      name: p.name,
      owner_id: p.owner_id,
      owner: shownName({ username: p.owner_username, display_name: p.owner_display }),
      label: `${p.name} — ${shownName({ username: p.owner_username, display_name: p.owner_display })}`,
    }));
}

/**
 * People to pick (admins and managers only; a user sees no one else): sorted by the name shown,
 * labelled with the username too. Inactive people only when `keep` names them (a current assignee).
 */
export async function peopleChoices(db: Db, actor: Actor, keep?: number | null | 'everyone') {
  if (actor.role === 'user') return [];
  const rows = await db
    .select({
      id: users.id,
      username: users.username,
      display_name: users.display_name,
      active: users.active,
    })
    .from(users)
    .where(keep ? undefined : and(eq(users.active, true)))
    .orderBy(asc(sql`lower(coalesce(nullif(${users.display_name}, ''), ${users.username}))`), asc(users.id))
    .limit(PICKER_LIMIT);
  return rows
    .filter((u) => u.active || keep === 'everyone' || u.id === keep)
    .map((u) => ({
      id: u.id,
      active: u.active,
      label: u.active ? personLabel(u) : `${personLabel(u)}, deactivated`,
    }));
}
