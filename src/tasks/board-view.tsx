import { VersionFields } from '../audit/conflict-view.tsx';
import type { TaskStatus } from '../db/schema/enums.ts';
import { STATUSES } from '../views/labels.ts';
import { type AssetUrl, Layout } from '../views/layout.tsx';
import type { TaskFilters, TaskView } from './list-view.tsx';

/** Cards a column shows at first, and each "Show more" adds. */
export const BOARD_COLUMN_SIZE = 50;

/** One column of the board: the first cards of a status and how many tasks in scope have it. */
export interface BoardColumn {
  items: TaskView[];
  total: number;
  /** The change log's position the column was read at (none for a column the filter empties). */
  since?: number | undefined;
}

/** The whole filtered scope by status (the list's search and status filter, not its page). */
export type BoardData = Record<TaskStatus, BoardColumn>;

/** Where a column's next cards come from: the filters of the list, and how far the column is. */
export function columnLink(status: TaskStatus, filters: TaskFilters, offset: number) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ q: filters.q, status: filters.status, sort: filters.sort, offset }))
    if (v !== undefined && v !== '') params.set(k, String(v));
  return `/tasks/board/${status}?${params}`;
}

const labelOf = (status: TaskStatus) => STATUSES.find(([s]) => s === status)?.[1] ?? status;

/** What makes a card of the board a `boardCard` (public/js/task-board.js): moved by drag and keys. */
const CARD_BEHAVIOUR = {
  'x-data': 'boardCard',
  'x-bind:data-status': 'status',
  'x-bind:class': '{ dragging: lifted }',
  'x-on:dragstart': 'lift',
  'x-on:dragend': 'land',
  'x-on:keydown.alt.left.prevent': 'step(-1)',
  'x-on:keydown.alt.right.prevent': 'step(1)',
};

/**
 * A card: draggable, and movable without a mouse: Alt+← / Alt+→ on it (its "Move" button says so),
 * and its menu is a plain form, so it works without JavaScript too. `onBoard`: a card of the tasks
 * page's board, moved there by public/js/task-board.js (not on a column's page of its own, where
 * the menu posts).
 */
function Card(props: { task: TaskView; onBoard: boolean }) {
  const t = props.task;
  return (
    <li
      data-card={t.id}
      data-status={t.status}
      data-version={t.version}
      draggable={props.onBoard ? 'true' : undefined}
      {...(props.onBoard ? CARD_BEHAVIOUR : {})}
    >
      <a class="card-title" href={`/tasks/${t.id}`}>
        {t.title}
      </a>
      <details class="move">
        <summary aria-keyshortcuts="Alt+ArrowLeft Alt+ArrowRight">
          Move<span class="sr-only"> {t.title}</span>
        </summary>
        <form
          method="post"
          action={`/tasks/${t.id}/status`}
          {...(props.onBoard ? { 'x-on:submit.prevent': 'fromMenu' } : {})}
        >
          <VersionFields version={t.version ? { etag: t.version, since: t.since ?? 0 } : undefined} />
          {/* Every column, the card's own disabled: on the board that mark follows the card's column. */}
          {STATUSES.map(([value, label]) => (
            <button
              type="submit"
              name="new_status"
              value={value}
              class="secondary"
              data-move-to={value}
              disabled={value === t.status}
              x-bind:disabled={props.onBoard ? `status === '${value}'` : undefined}
            >
              <span class="sr-only">Move to </span>
              {label}
            </button>
          ))}
        </form>
      </details>
    </li>
  );
}

/** Cards of a column from `offset`, then a "Show more" item if the column goes on (an htmx answer too). */
export function BoardCards(props: {
  status: TaskStatus;
  items: TaskView[];
  offset: number;
  total: number;
  filters: TaskFilters;
  /** false: on a column's page of its own, not on the tasks page's board. */
  onBoard?: boolean;
}) {
  const next = props.offset + props.items.length;
  const link = columnLink(props.status, props.filters, next);
  return (
    <>
      {props.items.map((t) => (
        <Card task={t} onBoard={props.onBoard !== false} />
      ))}
      {next < props.total && (
        <li data-more>
          <a
            href={link}
            hx-get={link}
            hx-target="closest li"
            hx-swap="outerHTML"
            // Not the results' own: the answer is more cards, whole.
            hx-select="unset"
            hx-include="unset"
          >
            Show more<span class="sr-only"> {labelOf(props.status)}</span> ({props.total - next} more)
          </a>
        </li>
      )}
    </>
  );
}

function BoardHelp() {
  return (
    <p id="board-help" class="hint">
      Drag a card to another column, or press Alt+← or Alt+→ on its Move button, or pick a column from its
      menu.
    </p>
  );
}

/** The board: every task in the filtered scope, a column per status, counts that are the column's totals. */
export function TaskBoard(props: { board: BoardData; filters: TaskFilters }) {
  return (
    // Rendered afresh by every refresh: the server's counts are current again.
    <section class="board-wrap" aria-labelledby="board-title" x-init="counted">
      <h2 id="board-title">Board</h2>
      <BoardHelp />
      <div class="board" data-board>
        {STATUSES.map(([status, label]) => {
          const column = props.board[status];
          return (
            <section
              aria-labelledby={`column-${status}`}
              aria-describedby="board-help"
              data-column={status}
              class="card"
              x-bind:class={`{ 'drop-target': dropOver === '${status}' }`}
              x-on:dragover={`dragOver('${status}', $event)`}
              {...{ 'x-on:drop.prevent': `drop('${status}')` }}
            >
              <h3 id={`column-${status}`}>
                {label}{' '}
                <span data-count x-text={`total('${status}', ${column.total})`}>
                  {column.total}
                </span>
              </h3>
              <ul data-cards>
                <BoardCards
                  status={status}
                  items={column.items}
                  offset={0}
                  total={column.total}
                  filters={props.filters}
                />
              </ul>
            </section>
          );
        })}
      </div>
    </section>
  );
}

/** Where the board says what a move did, or why it was refused: outside the list, which is re-rendered. */
export function BoardNotice() {
  return (
    <p
      id="board-notice"
      class="notice"
      role="status"
      aria-live="polite"
      x-text="boardSaid"
      x-bind:class="{ refused: boardRefused }"
    />
  );
}

/**
 * What makes the refreshed part of the tasks page the `taskBoard` component (public/js/task-board.js),
 * which outlives the refreshes: the column names, the notice and counts, and no refresh mid-drag.
 */
export const BOARD_BEHAVIOUR = {
  'x-data': 'taskBoard',
  'data-labels': JSON.stringify(Object.fromEntries(STATUSES)),
  'x-on:htmx:before-request.self': 'holdRefresh',
  'x-on:htmx:before-swap': 'rememberFocus',
  'x-on:htmx:after-swap': 'restoreFocus',
};

/** One column on a page of its own, for browsers without JavaScript ("Show more" as a plain link). */
export function BoardColumnPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  status: TaskStatus;
  column: BoardColumn;
  offset: number;
  filters: TaskFilters;
}) {
  const label = labelOf(props.status);
  const shown = props.column.items.length;
  return (
    <Layout title={`Tasks: ${label}`} asset={props.asset} user={props.user}>
      <h1>
        Tasks: {label} <span data-count>{props.column.total}</span>
      </h1>
      <p>
        <a href="/tasks">Back to all tasks</a>
      </p>
      <BoardHelp />
      <div class="board single" data-board>
        <section aria-label={label} aria-describedby="board-help" data-column={props.status} class="card">
          <p>
            {shown === 0
              ? 'No more tasks.'
              : `Showing ${props.offset + 1}–${props.offset + shown} of ${props.column.total}`}
          </p>
          <ul data-cards>
            <BoardCards
              status={props.status}
              items={props.column.items}
              offset={props.offset}
              total={props.column.total}
              filters={props.filters}
              onBoard={false}
            />
          </ul>
        </section>
      </div>
    </Layout>
  );
}
