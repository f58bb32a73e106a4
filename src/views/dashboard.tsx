import type { Dashboard } from '../domain/metrics.js';
import { Layout } from './layout.js';

function Tile(props: { label: string; metric: string; value: number }) {
  return (
    <div class="card tile">
      {props.label}
      <b data-metric={props.metric}>{props.value}</b>
    </div>
  );
}

function Counts(props: { title: string; prefix: string; counts: Record<string, number> }) {
  return (
    <section>
      <h2>{props.title}</h2>
      <div class="tiles">
        {Object.entries(props.counts).map(([key, value]) => (
          <Tile label={key.replace('_', ' ')} metric={`${props.prefix}.${key}`} value={value} />
        ))}
      </div>
    </section>
  );
}

/** Server-rendered dashboard; every number carries data-metric (DESIGN §6). */
export function DashboardPage(props: { user: { username: string; role: string }; doc: Dashboard }) {
  const { doc } = props;
  return (
    <Layout title="Dashboard" user={props.user}>
      <h1>Dashboard</h1>
      <div class="tiles">
        <Tile label="My overdue tasks" metric="my_overdue" value={doc.my_overdue} />
      </div>
      <Counts title="My tasks" prefix="my_tasks" counts={doc.my_tasks} />
      {doc.team_tasks && <Counts title="Team tasks" prefix="team_tasks" counts={doc.team_tasks} />}
      {doc.org_tasks && <Counts title="Organisation tasks" prefix="org_tasks" counts={doc.org_tasks} />}
      {doc.users_by_role && (
        <Counts title="Active users by role" prefix="users_by_role" counts={doc.users_by_role} />
      )}
      {doc.projects && (
        <section>
          <h2>Projects</h2>
          <ul>
            {Object.entries(doc.projects).map(([id, p]) => (
              <li>
                {p.name}: <span data-metric={`projects.${id}.done`}>{p.done}</span> of{' '}
                <span data-metric={`projects.${id}.total`}>{p.total}</span> done
              </li>
            ))}
          </ul>
        </section>
      )}
      <p>
        API: <a href="/api/docs">/api/docs</a>
      </p>
    </Layout>
  );
}
