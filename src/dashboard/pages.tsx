import type { App, AppDeps } from '../http/context.ts';
import { renderPage, signedIn } from '../http/page-kit.tsx';
import type { AssetUrl } from '../views/layout.tsx';
import { currentDashboard } from './current.ts';
import { DashboardPage } from './view.tsx';
import { workload } from './workload.ts';
import { WorkloadPage, WorkloadTable } from './workload-view.tsx';

/** The home page (/ → the dashboard or sign-in), the live dashboard, and /workload for admins and managers. */
export function registerDashboardPages(app: App, deps: AppDeps, asset: AssetUrl) {
  const { database } = deps;
  app.get('/', (c) => c.redirect(c.get('actor') ? '/dashboard' : '/login', 302));

  app.get('/dashboard', signedIn(), async (c) => {
    const actor = c.get('user');
    const doc = await currentDashboard(deps, actor);
    if (!doc) return c.redirect('/login', 302);
    return c.html(<DashboardPage asset={asset} user={actor} doc={doc} />);
  });

  // /workload: admins and managers; for users the page does not exist.
  app.get('/workload', signedIn(), async (c) => {
    const actor = c.get('user');
    if (actor.role === 'user') return c.notFound();
    const people = await workload(database.db, actor);
    return renderPage(c, {
      fragment: <WorkloadTable people={people} team={actor.role !== 'admin'} />,
      page: () => <WorkloadPage asset={asset} user={actor} people={people} />,
    });
  });
}
