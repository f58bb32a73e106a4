import type { App, AppDeps } from '../http/context.js';
import type { AssetUrl } from '../views/layout.js';
import { workload } from './workload.js';
import { WorkloadPage, WorkloadTable } from './workload-view.js';

/** /workload: admins and managers; for users the page does not exist. */
export function registerWorkloadPages(app: App, { database }: AppDeps, asset: AssetUrl) {
  app.get('/workload', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    if (actor.role === 'user') return c.notFound();
    const people = await workload(database.db, actor);
    if (c.req.header('hx-request'))
      return c.html(<WorkloadTable people={people} team={actor.role !== 'admin'} />);
    return c.html(<WorkloadPage asset={asset} user={actor} people={people} />);
  });
}
