import type { AssetUrl } from '../views/layout.tsx';
import { LivePage } from '../views/live-page.tsx';
import { actorName, ChangeObject, ChangeText, when } from './changes-view.tsx';
import type { Change, Names } from './history.ts';

export const AUDIT_PAGE_SIZE = 50;

/** The filters of the activity page, as they appear in its URL. */
export interface AuditFilters {
  actor?: string | undefined;
  entity?: string | undefined;
  id?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  offset?: number | undefined;
}

const KINDS: [string, string][] = [
  ['tasks', 'Tasks'],
  ['projects', 'Projects'],
  ['users', 'Users'],
];

/** The page's URL for these filters (empty ones left out). */
export function auditUrl(filters: AuditFilters, offset = filters.offset ?? 0) {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, offset: offset || undefined }))
    if (v !== undefined && v !== '') params.set(k, String(v));
  const query = params.toString();
  return query ? `/audit?${query}` : '/audit';
}

/**
 * One page of the change log, newest first, readable: who (by name), what (by name, linked),
 * and each field's old → new value. It refreshes itself on every realtime change, filters and
 * page kept (hx-get is its own URL).
 */
export function AuditRows(props: { items: Change[]; total: number; names: Names; filters: AuditFilters }) {
  const offset = props.filters.offset ?? 0;
  const self = auditUrl(props.filters);
  const pageLink = (to: number, label: string) => (
    <a
      href={auditUrl(props.filters, to)}
      hx-get={auditUrl(props.filters, to)}
      hx-target="#audit-results"
      hx-select="#audit-results"
      hx-swap="outerHTML"
      hx-push-url="true"
    >
      {label}
    </a>
  );
  return (
    <div
      id="audit-results"
      hx-get={self}
      hx-trigger="portal:change from:body"
      hx-select="#audit-results"
      hx-swap="outerHTML"
    >
      <p role="status" data-audit-summary>
        {props.total === 0
          ? 'No changes match.'
          : `Showing ${offset + 1}–${offset + props.items.length} of ${props.total} changes`}
      </p>
      {props.items.length > 0 && (
        <div class="table-scroll">
          <table data-audit class="cards">
            <caption class="sr-only">Changes, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Change</th>
              </tr>
            </thead>
            <tbody>
              {props.items.map((e) => (
                <tr data-change={e.id}>
                  <td data-label="When">
                    <time datetime={e.at}>{when(e.at)}</time>
                  </td>
                  <td data-who data-label="Who">
                    {e.actor_id && e.actor ? (
                      <a href={auditUrl({ actor: String(e.actor_id) })}>{actorName(e)}</a>
                    ) : (
                      actorName(e)
                    )}
                  </td>
                  <td data-what data-label="What">
                    <ChangeObject change={e} names={props.names} />
                  </td>
                  <td data-how data-label="Change">
                    <ChangeText change={e} names={props.names} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav aria-label="Pages" class="pager">
        <a href={auditExportUrl(props.filters)} download data-export>
          Export CSV<span class="sr-only"> of all {props.total} changes</span>
        </a>
        {offset > 0 && pageLink(Math.max(0, offset - AUDIT_PAGE_SIZE), 'Newer')}
        {offset + props.items.length < props.total && pageLink(offset + AUDIT_PAGE_SIZE, 'Older')}
      </nav>
    </div>
  );
}

/** The admin's activity page: the whole change log, filtered and paged, live. */
export function AuditPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  rows: Parameters<typeof AuditRows>[0];
  people: { id: number; label: string }[];
}) {
  const f = props.rows.filters;
  return (
    <LivePage title="Activity" asset={props.asset} user={props.user}>
      <h1>Activity</h1>
      <form
        id="audit-filters"
        method="get"
        action="/audit"
        class="filters"
        hx-get="/audit"
        hx-target="#audit-results"
        hx-select="#audit-results"
        hx-swap="outerHTML"
        hx-trigger="input changed delay:300ms from:#audit-id, change, submit"
        hx-push-url="true"
      >
        <div>
          <label for="audit-actor">Who</label>
          <select id="audit-actor" name="actor">
            <option value="">Anyone</option>
            {props.people.map((p) => (
              <option value={String(p.id)} selected={f.actor === String(p.id)}>
                {p.label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="audit-entity">Kind</label>
          <select id="audit-entity" name="entity">
            <option value="">Everything</option>
            {KINDS.map(([value, label]) => (
              <option value={value} selected={f.entity === value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="audit-id">Number (id)</label>
          <input
            id="audit-id"
            name="id"
            type="text"
            inputmode="numeric"
            pattern="[0-9]*"
            value={f.id ?? ''}
          />
        </div>
        <div>
          <label for="audit-from">From</label>
          <input id="audit-from" name="from" type="date" value={f.from ?? ''} />
        </div>
        <div>
          <label for="audit-to">To</label>
          <input id="audit-to" name="to" type="date" value={f.to ?? ''} />
        </div>
        <noscript>
          <button type="submit">Apply</button>
        </noscript>
      </form>
      <p class="muted">Days are UTC. A task's or project's own page shows its history too.</p>
      <AuditRows {...props.rows} />
    </LivePage>
  );
}

/** The whole filtered log as CSV (GET /api/audit/export.csv takes the same filters by their API names). */
export function auditExportUrl(f: AuditFilters): string {
  const params = new URLSearchParams();
  const api: Record<string, string | undefined> = {
    actor_id: f.actor,
    entity: f.entity,
    row_id: f.id,
    from: f.from,
    to: f.to,
  };
  for (const [k, v] of Object.entries(api)) if (v) params.set(k, v);
  return `/api/audit/export.csv?${params}`;
}
