import type { listAudit } from '../domain/audit.js';
import { type AssetUrl, Layout, LiveStatus } from './layout.js';

type Entry = Awaited<ReturnType<typeof listAudit>>['items'][number];

const describe = (e: Entry) => {
  const fields = Object.keys((e.op === 'delete' ? e.before : e.after) ?? {}).filter((k) => k !== 'id');
  return e.op === 'update' ? `changed ${fields.join(', ')}` : e.op === 'insert' ? 'created' : 'deleted';
};

/** One page of the change log, newest first: the fragment htmx swaps in on every change. */
export function AuditRows(props: { items: Entry[]; total: number }) {
  return (
    <table data-audit>
      <caption class="sr-only">Latest changes ({props.total} in all)</caption>
      <thead>
        <tr>
          <th scope="col">When (UTC)</th>
          <th scope="col">Who</th>
          <th scope="col">What</th>
          <th scope="col">Change</th>
        </tr>
      </thead>
      <tbody>
        {props.items.map((e) => (
          <tr data-change={e.id}>
            <td>{e.at.slice(0, 19).replace('T', ' ')}</td>
            <td>
              {e.actor
                ? e.actor.display_name || e.actor.username
                : e.actor_id
                  ? `user ${e.actor_id}`
                  : 'outside the portal'}
            </td>
            <td>
              {e.entity.replace(/s$/, '')} {e.row_id}
            </td>
            <td>{describe(e)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The admin's live activity feed: refreshed whenever the realtime document changes. */
export function AuditPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  rows: Parameters<typeof AuditRows>[0];
}) {
  return (
    <Layout
      title="Audit"
      asset={props.asset}
      user={props.user}
      scripts={['htmx.js']}
      modules={['live-events.js']}
    >
      <div data-live data-connection="reconnecting">
        <LiveStatus />
        <h1>Activity</h1>
        <div hx-get="/audit/rows" hx-trigger="portal:change from:body" hx-swap="innerHTML">
          <AuditRows {...props.rows} />
        </div>
      </div>
    </Layout>
  );
}
