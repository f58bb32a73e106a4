import { TASK_STATUSES, type TaskStatus } from '../db/schema/enums.js';
import type { Actor } from '../domain/actor.js';
import { listAudit } from '../domain/audit.js';
import { listSessions, revokeAllSessions, revokeSession } from '../domain/auth/sessions.js';
import { computeDashboard } from '../domain/metrics.js';
import { listTasks, updateTask } from '../domain/tasks.js';
import { AccountPage } from '../views/account.js';
import { AuditPage, AuditRows } from '../views/audit.js';
import { DashboardPage } from '../views/dashboard.js';
import type { AssetUrl } from '../views/layout.js';
import { LoginPage } from '../views/login.js';
import { PAGE_SIZE, type TaskFilters, TaskResults, TasksPage } from '../views/tasks.js';
import { safeNext } from './auth.js';
import type { App, AppDeps } from './context.js';
import { ApiError } from './errors.js';

/** Server-rendered pages; anonymous visitors go to /login and come back where they wanted. */
export function registerPages(app: App, { database, revokeRealtime }: AppDeps, asset: AssetUrl) {
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

  app.get('/account', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const sessions = await listSessions(database.db, actor.id);
    return c.html(<AccountPage asset={asset} user={actor} sessions={sessions} current={actor.sessionId} />);
  });

  // Forms, not fetch: cookie-authenticated, so the identify middleware has checked their Origin.
  app.post('/account/sessions/:sid/end', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect('/login', 303);
    const sid = c.req.param('sid');
    if (/^[0-9a-f-]{36}$/.test(sid) && (await revokeSession(database.db, actor.id, sid))) {
      await revokeRealtime?.(actor.id, sid);
    }
    return c.redirect('/account', 303);
  });

  app.post('/account/sessions/end-others', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect('/login', 303);
    const others = (await listSessions(database.db, actor.id)).filter((s) => s.id !== actor.sessionId);
    await revokeAllSessions(database.db, actor.id, actor.sessionId);
    for (const s of others) await revokeRealtime?.(actor.id, s.id);
    return c.redirect('/account', 303);
  });

  // Admins only; for anyone else the page does not exist.
  app.get('/audit', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    if (actor.role !== 'admin') return c.notFound();
    const rows = await listAudit(database.db, actor, { limit: 50 });
    return c.html(<AuditPage asset={asset} user={actor} rows={rows} />);
  });

  app.get('/audit/rows', async (c) => {
    const actor = c.get('actor');
    if (actor?.role !== 'admin') return c.notFound();
    return c.html(<AuditRows {...(await listAudit(database.db, actor, { limit: 50 }))} />);
  });

  const SORTS = new Set(['-created_at', 'due_date', '-priority', 'title']);
  /** Page filters from the query (or a form), reduced to what the list accepts. */
  const filtersOf = (get: (name: string) => string | undefined): TaskFilters => {
    const status = get('status');
    const offset = Number(get('offset') ?? 0);
    return {
      q: (get('q') ?? '').slice(0, 200) || undefined,
      status: TASK_STATUSES.includes(status as TaskStatus) ? status : undefined,
      sort: SORTS.has(get('sort') ?? '') ? get('sort') : '-created_at',
      offset: Number.isInteger(offset) && offset >= 0 && offset < 1e9 ? offset : 0,
    };
  };
  const results = async (actor: Actor, filters: TaskFilters) => {
    const page = await listTasks(database.db, actor, {
      q: filters.q,
      status: filters.status as TaskStatus | undefined,
      sort: filters.sort,
      offset: filters.offset,
      limit: PAGE_SIZE,
    });
    // Every task a caller can see, they may move along (admin, project owner, assignee); the API enforces it.
    return { ...page, filters, editable: () => true };
  };

  app.get('/tasks', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    const data = await results(
      actor,
      filtersOf((n) => c.req.query(n)),
    );
    if (c.req.header('hx-request')) return c.html(<TaskResults {...data} />);
    return c.html(<TasksPage asset={asset} user={actor} results={data} />);
  });

  app.post('/tasks/:id/status', async (c) => {
    const actor = c.get('actor');
    if (!actor) return c.redirect('/login', 303);
    const form = await c.req.parseBody();
    const get = (n: string) => (typeof form[n] === 'string' ? (form[n] as string) : undefined);
    const id = Number(c.req.param('id'));
    const status = get('new_status');
    if (
      !Number.isSafeInteger(id) ||
      id < 1 ||
      id > 2_147_483_647 ||
      !TASK_STATUSES.includes(status as TaskStatus)
    ) {
      throw new ApiError('validation_failed', 'Pick a valid status');
    }
    await updateTask(database.db, actor, id, { status: status as TaskStatus });
    if (!c.req.header('hx-request')) return c.redirect('/tasks', 303);
    return c.html(<TaskResults {...(await results(actor, filtersOf(get)))} />);
  });
}
