import { type FeatureDeps, featureApp } from '../http/feature.ts';
import { registerMetrics } from './api.ts';
import { registerDashboardPages } from './pages.tsx';

/** Dashboards: /api/metrics (the live document's first state), / → /dashboard, and /workload. */
export const dashboardFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerMetrics(app, deps);
    registerDashboardPages(app, deps, deps.asset);
  });
