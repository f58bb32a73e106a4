import type { Actor } from '../auth/actor.ts';
import type { Db } from '../db/database.ts';
import { peopleChoices, projectChoices } from '../db/pickers.ts';
import type { FilterChoices } from './filters-view.tsx';
import type { TaskFilters } from './list-view.tsx';
import type { TaskQuery } from './rules.ts';

const ID = /^[1-9][0-9]{0,9}$/;
const id = (v: string | undefined) =>
  v !== undefined && ID.test(v) && Number(v) <= 2_147_483_647 ? v : undefined;

/** The /tasks filters beyond search and status, from the URL; anything unknown is dropped. */
export function moreFiltersOf(get: (name: string) => string | undefined): Partial<TaskFilters> {
  const assignee = get('assignee');
  return {
    assignee: assignee === 'me' || assignee === 'none' ? assignee : id(assignee),
    project: id(get('project')),
    overdue: get('overdue') === '1' ? '1' : undefined,
    scope: get('scope') === 'team' ? 'team' : undefined,
  };
}

/** Those filters as the task list's query; the caller's scope still applies on top (src/tasks/rules.ts). */
export function taskQueryOf(actor: Actor, f: TaskFilters): Partial<TaskQuery> {
  return {
    assignee_id:
      f.assignee === 'me'
        ? actor.id
        : f.assignee === 'none'
          ? null
          : f.assignee
            ? Number(f.assignee)
            : undefined,
    project_id: f.project ? Number(f.project) : undefined,
    overdue: f.overdue === '1' ? true : undefined,
    owner_id: f.scope === 'team' ? actor.id : undefined,
  };
}

/** People and projects the filters offer: only what the caller may see. */
export async function filterChoices(db: Db, actor: Actor): Promise<FilterChoices> {
  const [people, projects] = await Promise.all([peopleChoices(db, actor), projectChoices(db, actor)]);
  return { people, projects, team: actor.role !== 'user' };
}
