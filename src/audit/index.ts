import { type FeatureDeps, featureApp } from '../http/feature.js';
import { registerAudit } from './api.js';
import { registerConflictWatch } from './conflict-pages.js';
import { registerAuditPages } from './pages.js';

/** The audit trail: /api/audit (and its CSV export), the page /audit, and who changed an open form's row. */
export const auditFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerAudit(app, deps);
    registerConflictWatch(app, deps);
    registerAuditPages(app, deps, deps.asset);
  });
