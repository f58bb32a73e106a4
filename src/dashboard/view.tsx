import { STATUS_LABELS } from '../views/labels.ts';
import { type AssetUrl, Layout, LiveStatus } from '../views/layout.tsx';
import type { Dashboard } from './metrics.ts';

/** A number and what it counts; it links to the list of exactly those things. */
function Tile(props: { label: string; metric: string; value: number; href: string }) {
  return (
    <a class="card tile" href={props.href} data-tile={props.metric}>
      {props.label}
      <b data-metric={props.metric}>{props.value}</b>
    </a>
  );
}

/** Where each count's list is (the filters are in the URL, so a link can be shared). */
const LISTS: Record<string, string> = {
  my_tasks: '/tasks?assignee=me&status=',
  team_tasks: '/tasks?scope=team&status=',
  org_tasks: '/tasks?status=',
};
const listOf = (prefix: string, key: string) => (LISTS[prefix] ? `${LISTS[prefix]}${key}` : '/users');

function Counts(props: {
  title: string;
  prefix: string;
  counts: Record<string, number>;
  labels?: Record<string, string>;
}) {
  return (
    <section aria-label={props.title}>
      <h2>{props.title}</h2>
      <div class="tiles">
        {Object.entries(props.counts).map(([key, value]) => (
          <Tile
            label={props.labels?.[key] ?? key}
            metric={`${props.prefix}.${key}`}
            value={value}
            href={listOf(props.prefix, key)}
          />
        ))}
      </div>
    </section>
  );
}

function Chart(props: {
  id: string;
  title: string;
  kind: string;
  path: string;
  empty?: string;
  /** A segment's list: this URL followed by the segment's key (dashboard.js navigates on a click). */
  href?: string;
  /** The segments, in order, with what they are called: a status chart's are STATUS_LABELS. */
  labels?: Readonly<Record<string, string>>;
}) {
  return (
    <figure class="card">
      <figcaption id={`${props.id}-title`}>{props.title}</figcaption>
      <canvas
        id={props.id}
        data-chart={props.kind}
        data-path={props.path}
        data-href={props.href}
        data-labels={props.labels && JSON.stringify(props.labels)}
        role="img"
        aria-labelledby={`${props.id}-title`}
      />
      {/* Shown by dashboard.js instead of an empty ring while every count is zero. */}
      <p class="chart-empty" data-chart-empty={props.id} hidden>
        {props.empty ?? 'Nothing to show yet.'}
      </p>
    </figure>
  );
}

/**
 * The role's dashboard, server-rendered with the current numbers (every one carries
 * data-metric, docs/contract.md §7), then kept live by /assets/dashboard.js over the realtime socket.
 */
export function DashboardPage(props: {
  asset: AssetUrl;
  user: { username: string; role: string };
  doc: Dashboard;
}) {
  const { doc } = props;
  return (
    <Layout
      title="Dashboard"
      asset={props.asset}
      user={props.user}
      scripts={['chart.js']}
      modules={['dashboard.js']}
    >
      <div data-dashboard data-role={doc.role}>
        <LiveStatus offline="Offline — showing the last known numbers" />
        <h1>Dashboard</h1>
        <div class="tiles">
          <Tile
            label="My overdue tasks"
            metric="my_overdue"
            value={doc.my_overdue}
            href="/tasks?assignee=me&overdue=1"
          />
        </div>
        <Counts title="My tasks" prefix="my_tasks" counts={doc.my_tasks} labels={STATUS_LABELS} />
        {doc.team_tasks && (
          <Counts
            title="My team's tasks"
            prefix="team_tasks"
            counts={doc.team_tasks}
            labels={STATUS_LABELS}
          />
        )}
        {doc.org_tasks && (
          <Counts
            title="Organisation tasks"
            prefix="org_tasks"
            counts={doc.org_tasks}
            labels={STATUS_LABELS}
          />
        )}
        {doc.users_by_role && (
          <Counts title="Active users by role" prefix="users_by_role" counts={doc.users_by_role} />
        )}
        <div class="charts">
          <Chart
            id="chart-my-tasks"
            title="My tasks by status"
            kind="status"
            path="my_tasks"
            labels={STATUS_LABELS}
            href={LISTS.my_tasks}
            empty="No tasks are assigned to you."
          />
          {doc.team_tasks && (
            <Chart
              id="chart-team"
              title="Team tasks by status"
              kind="status"
              path="team_tasks"
              labels={STATUS_LABELS}
              href={LISTS.team_tasks}
            />
          )}
          {doc.org_tasks && (
            <Chart
              id="chart-org"
              title="Organisation tasks by status"
              kind="status"
              path="org_tasks"
              labels={STATUS_LABELS}
              href={LISTS.org_tasks}
            />
          )}
          {doc.projects && (
            <Chart
              id="chart-projects"
              title="Project progress (done / total)"
              kind="projects"
              path="projects"
              href="/tasks?project="
            />
          )}
          {doc.users_by_role && (
            <Chart id="chart-users" title="Active users by role" kind="roles" path="users_by_role" />
          )}
          <Chart
            id="chart-completed"
            title="Tasks completed per day, last 14 days"
            kind="days"
            path="completed_by_day"
          />
        </div>
        {doc.projects && (
          <section aria-label="Projects">
            <h2>Projects</h2>
            <table>
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  <th scope="col">Done</th>
                  <th scope="col">Total</th>
                </tr>
              </thead>
              <tbody data-projects>
                {Object.entries(doc.projects).map(([id, p]) => (
                  <tr data-project={id}>
                    <td>
                      <a href={`/tasks?project=${id}`}>{p.name}</a>
                    </td>
                    <td data-metric={`projects.${id}.done`}>{p.done}</td>
                    <td data-metric={`projects.${id}.total`}>{p.total}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        )}
        <p>
          API: <a href="/api/docs">/api/docs</a>
        </p>
      </div>
    </Layout>
  );
}
