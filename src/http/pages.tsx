import { computeDashboard } from '../domain/metrics.js';
import { DashboardPage } from '../views/dashboard.js';
import type { AssetUrl } from '../views/layout.js';
import { LoginPage } from '../views/login.js';
import { safeNext } from './auth.js';
import type { App, AppDeps } from './context.js';

/** Server-rendered pages; anonymous visitors go to /login and come back where they wanted. */
export function registerPages(app: App, { database }: AppDeps, asset: AssetUrl) {
  app.get('/', (c) => c.redirect(c.get('actor') ? '/dashboard' : '/login', 302));

  app.get('/login', (c) => {
    if (c.get('actor')) return c.redirect(safeNext(c.req.query('next')), 302);
    return c.html(
      <LoginPage
        asset={asset}
        error={c.req.query('error')}
        retry={c.req.query('retry')}
        next={safeNext(c.req.query('next'))}
        username={c.req.query('username') ?? ''}
      />,
    );
  });

  app.get('/dashboard', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const doc = await computeDashboard(database.db, actor.id);
    if (!doc) return c.redirect('/login', 302);
    return c.html(<DashboardPage asset={asset} user={actor} doc={doc} />);
  });
}
