import { type FeatureDeps, featureApp } from '../http/feature.js';
import { registerMetrics } from './api.js';
import { registerDashboardPages } from './pages.js';

/** Dashboards: /api/metrics (the live document's first state), / → /dashboard, and /workload. */
export const dashboardFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerMetrics(app, deps);
    registerDashboardPages(app, deps, deps.asset);
  });
