import type { TaskFilters } from './list-view.tsx';

export interface FilterChoices {
  /** Other people to filter by (admins and managers); a user gets "me" only. */
  people: { id: number; label: string }[];
  /** Visible projects, each labelled with its owner. */
  projects: { id: number; label: string }[];
  /** May the caller narrow the list to projects they own (admins, managers)? */
  team: boolean;
}

/** Who, which project, whose projects, late only: the /tasks filters besides search and status. */
export function MoreTaskFilters(props: { filters: TaskFilters; choices: FilterChoices }) {
  const f = props.filters;
  return (
    <>
      <div>
        <label for="task-assignee">Assignee</label>
        <select id="task-assignee" name="assignee">
          <option value="">Anyone</option>
          <option value="me" selected={f.assignee === 'me'}>
            Me
          </option>
          {props.choices.people.length > 0 && (
            <option value="none" selected={f.assignee === 'none'}>
              Unassigned
            </option>
          )}
          {props.choices.people.map((p) => (
            <option value={String(p.id)} selected={f.assignee === String(p.id)}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      <div>
        <label for="task-project">Project</label>
        <select id="task-project" name="project">
          <option value="">Any</option>
          {props.choices.projects.map((p) => (
            <option value={String(p.id)} selected={f.project === String(p.id)}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      {props.choices.team && (
        <div>
          <label for="task-scope">Whose projects</label>
          <select id="task-scope" name="scope">
            <option value="">All I can see</option>
            <option value="team" selected={f.scope === 'team'}>
              Projects I own
            </option>
          </select>
        </div>
      )}
      <div class="check">
        <input id="task-overdue" name="overdue" type="checkbox" value="1" checked={f.overdue === '1'} />
        <label for="task-overdue">Overdue only</label>
      </div>
    </>
  );
}
