import { STATUS_LABELS } from '../views/labels.ts';
import type { AssetUrl } from '../views/layout.tsx';
import { LivePage } from '../views/live-page.tsx';
import { type Load, OPEN_STATUSES } from './workload.ts';

const COLUMNS = OPEN_STATUSES.map((s) => [s, STATUS_LABELS[s]] as const);

/** The table htmx swaps on every change: one row per person, each number a link to its tasks. */
export function WorkloadTable(props: { people: Load[]; team: boolean }) {
  const list = (who: number | null, extra: string) => {
    const params = new URLSearchParams();
    params.set('assignee', who === null ? 'none' : String(who));
    if (props.team) params.set('scope', 'team');
    return `/tasks?${params}&${extra}`;
  };
  const most = Math.max(1, ...props.people.map((p) => p.open));
  return (
    <div id="workload" class="table-scroll">
      {props.people.length === 0 ? (
        <p>No open tasks.</p>
      ) : (
        <table data-workload>
          <caption class="sr-only">Open tasks per person, by status</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              {COLUMNS.map(([, label]) => (
                <th scope="col" class="num">
                  {label}
                </th>
              ))}
              <th scope="col" class="num">
                Open
              </th>
              <th scope="col" class="num">
                Overdue
              </th>
              <th scope="col">
                <span class="sr-only">Share of the largest load</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.people.map((p) => (
              <tr data-person={p.id ?? 'none'}>
                <th scope="row">
                  {p.name}
                  {p.username && p.username !== p.name && <span class="muted"> ({p.username})</span>}
                  {!p.active && <span class="muted"> · deactivated</span>}
                </th>
                {COLUMNS.map(([status]) => (
                  <td class="num" data-count={status}>
                    {p.counts[status] > 0 ? (
                      <a href={list(p.id, `status=${status}`)}>{p.counts[status]}</a>
                    ) : (
                      '0'
                    )}
                  </td>
                ))}
                <td class="num" data-count="open">
                  {p.open}
                </td>
                <td class={p.overdue > 0 ? 'num overdue' : 'num'} data-count="overdue">
                  {p.overdue > 0 ? <a href={list(p.id, 'overdue=1')}>{p.overdue}</a> : '0'}
                </td>
                <td>
                  <meter min={0} max={most} value={p.open} aria-label={`${p.name}: ${p.open} open`} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** Who has how much open work: a manager's projects, or (admins) the whole organisation; live. */
export function WorkloadPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  people: Load[];
}) {
  const team = props.user.role !== 'admin';
  return (
    <LivePage title="Workload" asset={props.asset} user={props.user}>
      <h1>Workload</h1>
      <p class="muted">
        Open tasks (not done) {team ? 'in the projects you own' : 'across the organisation'}, per person. Each
        number opens those tasks.
      </p>
      <div hx-get="/workload" hx-trigger="portal:change from:body" hx-select="#workload" hx-swap="innerHTML">
        <WorkloadTable people={props.people} team={team} />
      </div>
    </LivePage>
  );
}
