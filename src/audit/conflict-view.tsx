import { actorName, ChangeText, FIELDS, HIDDEN, valueText, when } from './changes-view.tsx';
import type { Conflict } from './conflicts.ts';

/** The version an edit form was opened with: sent back with the save (docs/ui-writes.md). */
export interface EditVersion {
  /** The row's ETag when the form was rendered: the save's If-Match. */
  etag: string;
  /** The change log's position then: the notice lists the row's changes after it. */
  since: number;
}

/** Hidden fields of an edit form: its version and the log position. */
export function VersionFields(props: { version: EditVersion | undefined }) {
  if (!props.version) return null;
  return (
    <>
      <input type="hidden" name="version" value={props.version.etag} />
      <input type="hidden" name="since" value={String(props.version.since)} />
    </>
  );
}

const NOUN = { task: 'task', project: 'project', user: 'user' } as const;

/** The conflict in one sentence, for a notice that is plain text (an in-place control's). */
export function conflictText(c: Conflict): string {
  const noun = NOUN[c.kind];
  if (c.etag === undefined) return `This ${noun} was deleted (or is no longer yours to change) meanwhile.`;
  if (c.changes.length === 0) return `This ${noun} was changed meanwhile.`;
  const parts = c.changes.map((ch) => {
    if (ch.op !== 'update') return `${actorName(ch)} ${ch.op === 'insert' ? 'created' : 'deleted'} it`;
    const after = ch.after ?? {};
    const before = ch.before ?? {};
    const fields = Object.keys(after)
      .filter((k) => !HIDDEN.has(k))
      .map(
        (f) => `${FIELDS[f] ?? f} ${valueText(f, before[f], c.names)} → ${valueText(f, after[f], c.names)}`,
      );
    return `${actorName(ch)} changed ${fields.length ? fields.join(', ') : 'it'}`;
  });
  return `Changed meanwhile: ${parts.join('; ')}`;
}

/**
 * "Changed meanwhile": who changed what since the form was opened, and the choice: Reload (the
 * current values, nothing of mine kept) or Overwrite (save mine over theirs: a submit button of
 * the form that sends the current ETag as `overwrite`). Shown inside the form when the watch
 * (public/js/edit-watch.js) finds the row changed, and by the page route after a 412.
 * `overwrite` false: the notice stands alone (the button lives in a form of its own).
 */
export function ConflictNotice(props: {
  conflict: Conflict;
  reload: string;
  /** htmx target for Reload (public/js/edit-watch.js); without it Reload is a plain link. */
  reloadTarget?: string | undefined;
  /**
   * After a refused save (412), rather than while editing; 'delete': a refused delete, the form
   * now showing the row as it is (delete again to delete that).
   */
  refused?: boolean | 'delete' | undefined;
  /** The overwrite button, when it is not a plain submit button of the surrounding form. */
  overwrite?: 'submit' | 'none' | undefined;
}) {
  const c = props.conflict;
  const noun = NOUN[c.kind];
  const id = `conflict-${c.kind}-${c.id}`;
  if (c.etag === undefined) {
    return (
      <div class="notice conflict" role="alert" id={id} data-conflict data-version="gone">
        <p>
          <strong>This {noun} was deleted</strong> (or is no longer yours to change) while you were editing
          it. {props.refused ? 'Nothing was saved.' : 'Saving will not be possible.'}
        </p>
        <p>
          <a href={props.reload} data-reload data-reload-target={props.reloadTarget}>
            Reload
          </a>
        </p>
      </div>
    );
  }
  const people = [...new Set(c.changes.map((ch) => actorName(ch)))];
  return (
    <div
      class="notice conflict"
      role="alert"
      id={id}
      data-conflict
      data-version={c.etag}
      data-changes={String(c.changes.length)}
    >
      <p>
        <strong>
          {people.length > 0 ? `${people.join(', ')} changed this ${noun}` : `This ${noun} was changed`}
        </strong>{' '}
        while you were editing it
        {c.changes.length === 0 ? ' (the change log does not say what changed).' : ':'}
      </p>
      {c.changes.length > 0 && (
        <ul class="conflict-changes">
          {c.changes.map((ch) => (
            <li data-change={ch.id}>
              {actorName(ch)}, {when(ch.at)}: <ChangeText change={ch} names={c.names} />
            </li>
          ))}
        </ul>
      )}
      {props.refused === 'delete' ? (
        <p>Not deleted. The form shows it as it is now: delete it again if you still want it gone.</p>
      ) : (
        <p>
          {props.refused
            ? 'Your save was refused, nothing of yours is saved yet. '
            : 'Nothing of yours is saved yet. '}
          Reload to see the current values (what you typed is dropped), or overwrite them with yours.
        </p>
      )}
      {props.refused !== 'delete' && (
        <p class="dialog-actions">
          {props.overwrite !== 'none' && (
            <button type="submit" name="overwrite" value={c.etag} data-overwrite>
              Overwrite with mine
            </button>
          )}
          <a href={props.reload} class="button secondary" data-reload data-reload-target={props.reloadTarget}>
            Reload
          </a>
        </p>
      )}
    </div>
  );
}
