import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { formIfMatch, isStale, staleConflict } from '../audit/conflict-pages.tsx';
import type { Actor } from '../auth/actor.ts';
import { pageEtags, versionExtra } from '../db/list.ts';
import { projects } from '../db/schema/projects.ts';
import type { App, AppDeps } from '../http/context.ts';
import { pathId, refusalOf } from '../http/forms.ts';
import { actorIn, formAction, renderPage, signedIn } from '../http/page-kit.tsx';
import { Description, IdParam, Name } from '../http/schemas.ts';
import { listUsers } from '../users/rules.ts';
import { ConfirmDetails, ConfirmPage, type ConfirmProps, count } from '../views/confirm.tsx';
import type { AssetUrl } from '../views/layout.tsx';
import { ProjectsPage, ProjectsSection, type ProjectsSectionProps } from './list-view.tsx';
import {
  canManage,
  createProject,
  deleteProject,
  listProjects,
  projectDeletionImpact,
  updateProject,
} from './rules.ts';

/** What the project forms send, checked with the API's own field rules (src/http/schemas.ts). */
const ProjectForm = z.object({
  name: Name,
  description: Description,
  owner_id: IdParam.optional(),
});

/**
 * The projects page: everyone sees the projects they may see (the API's scope); admins and
 * managers create, edit and delete exactly what the API lets them (src/projects/rules.ts).
 * Forms post here (cookie + Origin checked by the identify middleware); htmx swaps the answered
 * #projects section in place, and without JavaScript the whole page comes back.
 */
export function registerProjectPages(app: App, { database }: AppDeps, asset: AssetUrl) {
  const { db } = database;

  const answer = async (c: Context, actor: Actor, extra: Partial<ProjectsSectionProps> = {}) => {
    // The projects with their versions and the change log's position in one statement (one
    // snapshot: a change after these rows has a greater id, so it is listed, never missed), and
    // an admin's owner choices beside it: one round trip.
    const [list, people] = await Promise.all([
      listProjects(db, actor, { limit: 200, sort: 'name' }, { extra: versionExtra(projects), since: true }),
      actor.role === 'admin' ? listUsers(db, actor, { limit: 200, sort: 'username' }) : undefined,
    ]);
    const { since } = list;
    const etags = pageEtags('project', list.items, list.extras);
    const manageable = list.items.filter((p) => canManage(actor, p));
    const owners = people?.items
      .filter((u) => u.role !== 'user' && (u.active || list.items.some((p) => p.owner_id === u.id)))
      .map((u): [string, string] => [String(u.id), u.display_name || u.username]);
    const section: ProjectsSectionProps = {
      projects: list.items,
      total: list.total,
      canCreate: actor.role !== 'user',
      manageable: new Set(manageable.map((p) => p.id)),
      versions: { etags, since },
      owners,
      me: actor.id,
      ...extra,
    };
    return renderPage(c, {
      fragment: <ProjectsSection {...section} />,
      page: () => <ProjectsPage asset={asset} user={actor} section={section} />,
    });
  };
  /** Users manage no projects: for them these forms do not exist. */
  const manager = (c: Context) => actorIn(c, ['manager', 'admin']);
  const draftOf = (f: Record<string, string>) => {
    const draft: Record<string, string> = { name: f.name ?? '', description: f.description ?? '' };
    if (f.owner_id !== undefined) draft.owner_id = f.owner_id;
    return draft;
  };
  const input = (f: Record<string, string>) => ({
    name: f.name ?? '',
    description: f.description ?? '',
    owner_id: f.owner_id,
  });
  /**
   * A rule the domain refuses: 422 details become inline errors, anything else in 4xx a notice.
   * "Not found" stays a 404, so a project out of scope does not leak.
   */
  const refused = (thrown: unknown) => {
    const refusal = refusalOf(thrown);
    if (refusal.error.code === 'not_found') throw thrown;
    return refusal;
  };

  app.get('/projects', signedIn(), async (c) => {
    const actor = c.get('user');
    // ?edit=<id>: that project's edit form open with its current values ("Reload" after a conflict).
    const edit = IdParam.safeParse(c.req.query('edit'));
    return answer(c, actor, edit.success ? { editing: { id: edit.data, errors: {}, draft: {} } } : {});
  });

  app.post('/projects/new', async (c) => {
    const actor = manager(c);
    if (!actor) return c.notFound();
    const result = await formAction(c, {
      schema: ProjectForm,
      input,
      run: (project) => createProject(db, actor, project),
      rethrow: ['not_found'],
    });
    if ('refused' in result) {
      const { errors, message } = result.refused;
      return answer(c, actor, { errors: errors ?? { name: message }, draft: draftOf(result.fields) });
    }
    return answer(c, actor, {
      notice: { text: `Created the project “${result.done.name}”.` },
      created: true,
    });
  });

  app.post('/projects/:id/edit', async (c) => {
    const actor = manager(c);
    if (!actor) return c.notFound();
    const id = pathId(c, 'Project');
    const result = await formAction(c, {
      schema: ProjectForm,
      input,
      run: (project, fields) => updateProject(db, actor, id, project, formIfMatch(fields)),
      rethrow: ['not_found'],
    });
    if (!('refused' in result))
      return answer(c, actor, { notice: { text: `Saved the project “${result.done.name}”.` } });
    const { fields, refused } = result;
    const draft = draftOf(fields);
    // The version the form was opened with stays the form's: a refused save never refreshes it.
    const version = fields.version ? { etag: fields.version, since: Number(fields.since) || 0 } : undefined;
    // Changed since the form was opened: nothing saved; the form as typed, and the choice.
    if (refused.error && isStale(refused.error)) {
      const conflict = await staleConflict(db, actor, 'project', id, fields);
      return answer(c, actor, { editing: { id, errors: {}, draft, version, conflict } });
    }
    if (refused.errors || !refused.error) {
      return answer(c, actor, { editing: { id, errors: refused.errors ?? {}, draft, version } });
    }
    return answer(c, actor, { notice: { projectId: id, text: refused.message } });
  });

  // What deleting would remove, counted now: the confirmation dialog's text (htmx), or a page of
  // its own with the real button (without JavaScript).
  app.get('/projects/:id/delete', signedIn(), async (c) => {
    const actor = c.get('user');
    const impact = await projectDeletionImpact(db, actor, pathId(c, 'Project'));
    const confirm = deletionText(impact);
    return renderPage(c, {
      fragment: <ConfirmDetails {...confirm} />,
      page: () => (
        <ConfirmPage
          {...confirm}
          asset={asset}
          user={actor}
          path={c.req.path}
          back={{ href: '/projects', label: 'Back to projects' }}
        />
      ),
    });
  });

  app.post('/projects/:id/delete', async (c) => {
    const actor = manager(c);
    if (!actor) return c.notFound();
    const id = pathId(c, 'Project');
    try {
      const impact = await projectDeletionImpact(db, actor, id);
      await deleteProject(db, actor, id);
      const text =
        impact.tasks === 0
          ? `Deleted the project “${impact.project.name}”.`
          : `Deleted the project “${impact.project.name}” and its ${count(impact.tasks, 'task')}.`;
      return answer(c, actor, { notice: { text } });
    } catch (thrown) {
      const { error } = refused(thrown);
      return answer(c, actor, { notice: { projectId: id, text: error.message } });
    }
  });
}

/** The confirmation of a project's deletion, with what it removes. */
function deletionText(impact: Awaited<ReturnType<typeof projectDeletionImpact>>): ConfirmProps {
  const name = impact.project.name;
  const done = impact.tasks - impact.openTasks;
  return {
    title: `Delete the project “${name}”?`,
    lines: [
      impact.tasks === 0
        ? 'It has no tasks.'
        : `Its ${count(impact.tasks, 'task')} will be deleted with it: ${impact.openTasks} open, ${done} done.`,
      'This cannot be undone.',
    ],
    action: `Delete “${name}”`,
  };
}
