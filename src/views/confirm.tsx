import { type AssetUrl, Layout } from './layout.tsx';

/**
 * A destructive action's form: with JavaScript, htmx posts it after public/js/confirm-dialog.js
 * has shown what it will do (counted by the server at `path`, GET) and the person confirmed;
 * without JavaScript the form GETs the same `path`, a page saying the same with the real button.
 */
export const confirmable = (path: string, question: string, target: string) => ({
  method: 'get' as const,
  action: path,
  'hx-post': path,
  'hx-target': target,
  'hx-swap': 'outerHTML',
  'hx-confirm': question,
  'data-confirm-from': path,
});

export interface ConfirmProps {
  /** The question, e.g. "Delete nora?". */
  title: string;
  /** What will happen, one sentence each, with the real counts. */
  lines: string[];
  /** The confirming button's words, e.g. "Delete nora"; absent when the action cannot be done now. */
  action?: string | undefined;
}

/** What the dialog shows (public/js/confirm-dialog.js reads these attributes). */
export function ConfirmDetails(props: ConfirmProps) {
  return (
    <div
      data-confirm
      data-title={props.title}
      data-action={props.action}
      data-blocked={props.action ? undefined : ''}
    >
      {props.lines.map((line) => (
        <p>{line}</p>
      ))}
    </div>
  );
}

/** The same, as a page of its own (no JavaScript): the real button posts, Cancel goes back. */
export function ConfirmPage(
  props: ConfirmProps & {
    asset: AssetUrl;
    user: { username: string; role: string };
    path: string;
    back: { href: string; label: string };
  },
) {
  return (
    <Layout title={props.title} asset={props.asset} user={props.user}>
      <div class="card narrow" data-confirm-page>
        <h1>{props.title}</h1>
        {props.lines.map((line) => (
          <p>{line}</p>
        ))}
        <form method="post" action={props.path} class="actions">
          {props.action && (
            <button type="submit" class="danger">
              {props.action}
            </button>
          )}
          <a href={props.back.href}>{props.action ? 'Cancel' : props.back.label}</a>
        </form>
      </div>
    </Layout>
  );
}

/** "1 task", "3 tasks". */
export const count = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
