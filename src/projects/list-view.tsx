import { ConflictNotice, type EditVersion, VersionFields } from '../audit/conflict-view.tsx';
import type { Conflict } from '../audit/conflicts.ts';
import { confirmable } from '../views/confirm.tsx';
import { type AssetUrl, Field, type FieldErrors, Layout } from '../views/layout.tsx';

export interface ProjectView {
  id: number;
  name: string;
  description: string;
  owner_id: number;
}

/** A listed project's version (its ETag), for its edit form. */
export type ProjectVersions = Map<number, string>;

/** Fields of a form that answers with a fresh copy of #projects (htmx) or a full page (no JavaScript). */
const hx = (action: string) => ({
  method: 'post' as const,
  action,
  'hx-post': action,
  'hx-target': '#projects',
  'hx-swap': 'outerHTML',
});

export interface ProjectsSectionProps {
  projects: ProjectView[];
  total: number;
  /** May the caller create projects (admins, managers)? */
  canCreate: boolean;
  /** Ids of the listed projects the caller may change and delete. */
  manageable: Set<number>;
  /** Admins only: who may own a project (active managers and admins), for the owner pickers. */
  owners?: [id: string, label: string][] | undefined;
  /** The admin's own id: the default owner of a new project. */
  me: number;
  /** The create form's inline errors and what was typed. */
  errors?: FieldErrors;
  draft?: Record<string, string>;
  /** The edit form of one project, left open with its inline errors and what was typed. */
  editing?: {
    id: number;
    errors: FieldErrors;
    draft: Record<string, string>;
    /** The version the form was opened with (kept through a refused save). */
    version?: EditVersion | undefined;
    /** The save was refused as stale (412): who changed what meanwhile, and the choice. */
    conflict?: Conflict | undefined;
  };
  /** The listed projects' ETags and the change log's position: the edit forms' versions. */
  versions?: { etags: ProjectVersions; since: number } | undefined;
  notice?: { projectId?: number; text: string };
  /** A project was just created: focus goes back to the create form's first field, which reads the notice. */
  created?: boolean;
}

function EditForm(props: {
  project: ProjectView;
  owners: [string, string][] | undefined;
  editing: ProjectsSectionProps['editing'];
  versions: ProjectsSectionProps['versions'];
}) {
  const p = props.project;
  const mine = props.editing?.id === p.id ? props.editing : undefined;
  const errors = mine?.errors ?? {};
  const draft = mine?.draft ?? {};
  const prefix = `edit-${p.id}`;
  const etag = props.versions?.etags.get(p.id);
  const version =
    mine?.version ?? (etag && props.versions ? { etag, since: props.versions.since } : undefined);
  return (
    <details open={mine !== undefined} id={`project-edit-${p.id}`}>
      <summary>
        Edit<span class="sr-only"> {p.name}</span>
      </summary>
      <form
        {...hx(`/projects/${p.id}/edit`)}
        class="stack"
        novalidate
        data-watch={version ? `/projects/${p.id}/changes` : undefined}
      >
        <VersionFields version={version} />
        <Field
          id={`${prefix}-name`}
          name="name"
          label="Name"
          errors={errors}
          value={draft.name ?? p.name}
          required
          maxlength={200}
        />
        <Field
          id={`${prefix}-description`}
          name="description"
          label="Description"
          kind="textarea"
          errors={errors}
          value={draft.description ?? p.description}
          maxlength={10_000}
        />
        {props.owners && (
          <Field
            id={`${prefix}-owner_id`}
            name="owner_id"
            label="Owner"
            kind="select"
            options={props.owners}
            errors={errors}
            value={draft.owner_id ?? String(p.owner_id)}
          />
        )}
        <button type="submit">Save</button>
        {/* After Save: Enter in a field still means "Save", never "Overwrite". */}
        <div data-conflict-slot>
          {mine?.conflict && (
            <ConflictNotice
              conflict={mine.conflict}
              reload={`/projects?edit=${p.id}`}
              reloadTarget="#projects"
              refused
            />
          )}
        </div>
      </form>
    </details>
  );
}

/** The projects section: the create form (with inline errors), then the list with its actions. */
export function ProjectsSection(props: ProjectsSectionProps) {
  const errors = props.errors ?? {};
  const draft = props.draft ?? {};
  const ownerName = new Map(props.owners ?? []);
  const anyActions = props.projects.some((p) => props.manageable.has(p.id));
  return (
    <div id="projects">
      {props.canCreate && (
        <section class="card" aria-labelledby="new-project-title">
          <h2 id="new-project-title">New project</h2>
          <form {...hx('/projects/new')} class="filters" novalidate>
            {/* htmx focuses [autofocus] in what it swaps in: after a create, or on the first error. */}
            <Field
              id="new-name"
              name="name"
              label="Name"
              errors={errors}
              value={draft.name}
              required
              autofocus={props.created || errors.name !== undefined}
              describedBy={props.created ? 'projects-notice' : undefined}
              maxlength={200}
            />
            <Field
              id="new-description"
              name="description"
              label="Description"
              kind="textarea"
              errors={errors}
              value={draft.description}
              autofocus={errors.name === undefined && errors.description !== undefined}
              maxlength={10_000}
            />
            {props.owners && (
              <Field
                id="new-owner_id"
                name="owner_id"
                label="Owner"
                kind="select"
                options={props.owners}
                errors={errors}
                value={draft.owner_id ?? String(props.me)}
              />
            )}
            <div>
              <button type="submit">Create project</button>
            </div>
          </form>
        </section>
      )}
      {props.notice && !props.notice.projectId && (
        <p role="status" class="notice" id="projects-notice">
          {props.notice.text}
        </p>
      )}
      <p data-project-total>
        {props.total === 0
          ? 'No projects to show.'
          : props.total === 1
            ? '1 project'
            : `${props.total} projects`}
      </p>
      {props.projects.length > 0 && (
        <table data-projects class="cards">
          <caption class="sr-only">Projects</caption>
          <thead>
            <tr>
              <th scope="col">Project</th>
              {props.owners && <th scope="col">Owner</th>}
              {anyActions && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {props.projects.map((p) => (
              <tr data-project={p.id}>
                <td>
                  <strong data-name>
                    <a href={`/projects/${p.id}`}>{p.name}</a>
                  </strong>
                  {p.description && (
                    <p class="muted" data-description>
                      {p.description}
                    </p>
                  )}
                </td>
                {props.owners && (
                  <td data-label="Owner">{ownerName.get(String(p.owner_id)) ?? `#${p.owner_id}`}</td>
                )}
                {anyActions && (
                  <td>
                    {props.manageable.has(p.id) && (
                      <div class="actions">
                        <EditForm
                          project={p}
                          owners={props.owners}
                          editing={props.editing}
                          versions={props.versions}
                        />
                        <form
                          {...confirmable(
                            `/projects/${p.id}/delete`,
                            `Delete the project “${p.name}” and all its tasks?`,
                            '#projects',
                          )}
                        >
                          <button type="submit" class="danger">
                            Delete<span class="sr-only"> {p.name}</span>
                          </button>
                        </form>
                      </div>
                    )}
                    {props.notice?.projectId === p.id && (
                      <p role="alert" class="error">
                        {props.notice.text}
                      </p>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function ProjectsPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  section: ProjectsSectionProps;
}) {
  return (
    <Layout
      title="Projects"
      asset={props.asset}
      user={props.user}
      scripts={['htmx.js']}
      modules={['write-guard.js', 'confirm-dialog.js', 'char-count.js', 'edit-watch.js']}
    >
      <h1>Projects</h1>
      <ProjectsSection {...props.section} />
    </Layout>
  );
}
