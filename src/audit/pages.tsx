import type { Context } from 'hono';
import { peopleChoices } from '../db/pickers.ts';
import type { App, AppDeps } from '../http/context.ts';
import { isFragmentRequest, signedIn } from '../http/page-kit.tsx';
import { IsoDate } from '../http/schemas.ts';
import { ForbiddenPage } from '../views/forbidden.tsx';
import type { AssetUrl } from '../views/layout.tsx';
import { listAuditNamed } from './rules.ts';
import { AUDIT_PAGE_SIZE, type AuditFilters, AuditPage, AuditRows, auditUrl } from './view.tsx';

const ID = /^[1-9][0-9]{0,9}$/;
const ENTITIES = ['tasks', 'projects', 'users'] as const;

/** The page's filters from its URL; anything malformed is dropped (the page never answers 400). */
function filtersOf(get: (name: string) => string | undefined): AuditFilters {
  const id = (v: string | undefined) =>
    v !== undefined && ID.test(v.trim()) && Number(v) <= 2_147_483_647 ? v.trim() : undefined;
  const day = (v: string | undefined) => (v && IsoDate.safeParse(v).success ? v : undefined);
  const entity = get('entity');
  const offset = Number(get('offset') ?? 0);
  return {
    actor: id(get('actor')),
    entity: ENTITIES.includes(entity as (typeof ENTITIES)[number]) ? entity : undefined,
    id: id(get('id')),
    from: day(get('from')),
    to: day(get('to')),
    offset: Number.isInteger(offset) && offset >= 0 && offset < 1e9 ? offset : 0,
  };
}

/** /audit: admins only; for anyone else the page does not exist. */
export function registerAuditPages(app: App, { database }: AppDeps, asset: AssetUrl) {
  const { db } = database;
  const rows = async (c: Context, filters: AuditFilters) => {
    const actor = c.get('actor')!;
    // The names on the page come in the rows' statement (one round trip).
    const page = await listAuditNamed(db, actor, {
      actor_id: filters.actor ? Number(filters.actor) : undefined,
      entity: filters.entity as (typeof ENTITIES)[number] | undefined,
      row_id: filters.id ? Number(filters.id) : undefined,
      from: filters.from,
      to: filters.to,
      offset: filters.offset,
      limit: AUDIT_PAGE_SIZE,
    });
    return { ...page, filters };
  };

  app.get('/audit', signedIn(), async (c) => {
    const actor = c.get('user');
    if (actor.role !== 'admin')
      return c.html(
        <ForbiddenPage
          asset={asset}
          user={actor}
          reason="The activity log (who changed what) is only for admins."
        />,
        403,
      );
    const fragment = isFragmentRequest(c);
    // The whole page's reads at once: far from the database, one wait fewer.
    const [data, people] = await Promise.all([
      rows(
        c,
        filtersOf((n) => c.req.query(n)),
      ),
      fragment ? [] : peopleChoices(db, actor, 'everyone'),
    ]);
    if (fragment) {
      // From the filter form, the address bar gets the clean URL (no empty filters); a live
      // refresh pushes nothing.
      if (c.req.header('hx-trigger') === 'audit-filters') c.header('HX-Push-Url', auditUrl(data.filters));
      return c.html(<AuditRows {...data} />);
    }
    return c.html(<AuditPage asset={asset} user={actor} rows={data} people={people} />);
  });

  // The fragment alone (kept for clients of the earlier live feed).
  app.get('/audit/rows', async (c) => {
    const actor = c.get('actor');
    if (actor?.role !== 'admin') return c.notFound();
    return c.html(
      <AuditRows
        {...(await rows(
          c,
          filtersOf((n) => c.req.query(n)),
        ))}
      />,
    );
  });
}
