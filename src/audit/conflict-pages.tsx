import type { Context } from 'hono';
import type { Actor } from '../auth/actor.ts';
import { type IfMatch, parseIfMatch } from '../db/versions.ts';
import { PortalError } from '../errors.ts';
import type { App, AppDeps, AppEnv } from '../http/context.ts';
import { pathId } from '../http/forms.ts';
import { ConflictNotice } from './conflict-view.tsx';
import { type Conflict, conflictOf, currentEtag, type Editable, sinceOf } from './conflicts.ts';

/**
 * No lost edits from the pages (docs/ui-writes.md). A form's save sends `version` (the ETag the
 * form was rendered with) or, after the person chose "Overwrite", `overwrite` (the ETag the notice
 * showed) as the domain's If-Match; a form without either is not checked (as the API without
 * If-Match).
 */
export function formIfMatch(fields: Record<string, string>): IfMatch | undefined {
  const tag = fields.overwrite || fields.version;
  return tag ? parseIfMatch(tag) : undefined;
}

/** Was this refusal a stale version (412)? */
export const isStale = (thrown: unknown) =>
  thrown instanceof PortalError && thrown.code === 'precondition_failed';

/** The conflict to show after a 412, from the position the form was opened at. */
export const staleConflict = (
  db: AppDeps['database']['db'],
  actor: Actor,
  kind: Editable,
  id: number,
  fields: Record<string, string>,
): Promise<Conflict> => conflictOf(db, actor, kind, id, sinceOf(fields.since));

const RELOAD: Record<Editable, (id: number, c: Context<AppEnv>) => { href: string; target?: string }> = {
  // The dialog reloads its form in place; the page of its own (no dialog) reloads itself.
  task: (id, c) =>
    c.req.query('in') === 'dialog'
      ? { href: `/tasks/${id}/edit`, target: '#task-dialog-body' }
      : { href: `/tasks/${id}/edit` },
  project: (id) => ({ href: `/projects?edit=${id}`, target: '#projects' }),
  user: () => ({ href: '/users', target: '#users' }),
};

/**
 * GET /{tasks,projects,users}/{id}/changes?version=&since=: what an open edit form asks while it
 * is open (public/js/edit-watch.js). 204 while the row is still at `version`; otherwise the
 * notice (HTML) saying who changed what since `since`, with Reload and Overwrite.
 */
export function registerConflictWatch(app: App, { database }: AppDeps) {
  const { db } = database;
  const watch = (path: string, kind: Editable) =>
    app.get(path, async (c) => {
      const actor = c.get('actor');
      if (!actor) throw new PortalError('unauthenticated', 'Sign in first');
      const id = pathId(c, kind === 'task' ? 'Task' : kind === 'project' ? 'Project' : 'User');
      const version = c.req.query('version') ?? '';
      const etag = await currentEtag(db, actor, kind, id);
      c.header('Cache-Control', 'no-store');
      if (etag !== undefined && etag === version) return c.body(null, 204);
      const conflict = await conflictOf(db, actor, kind, id, sinceOf(c.req.query('since')));
      const reload = RELOAD[kind](id, c);
      return c.html(
        <ConflictNotice
          conflict={conflict}
          reload={reload.href}
          reloadTarget={reload.target}
          overwrite={kind === 'user' ? 'none' : 'submit'}
        />,
      );
    });
  watch('/tasks/:id/changes', 'task');
  watch('/projects/:id/changes', 'project');
  watch('/users/:id/changes', 'user');
}
