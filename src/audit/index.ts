import { type FeatureDeps, featureApp } from '../http/feature.ts';
import { registerAudit } from './api.ts';
import { registerConflictWatch } from './conflict-pages.tsx';
import { registerAuditPages } from './pages.tsx';

/** The audit trail: /api/audit (and its CSV export), the page /audit, and who changed an open form's row. */
export const auditFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerAudit(app, deps);
    registerConflictWatch(app, deps);
    registerAuditPages(app, deps, deps.asset);
  });
