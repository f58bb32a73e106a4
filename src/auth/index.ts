import { type FeatureDeps, featureApp } from '../http/feature.ts';
import { registerAuth } from './api.ts';
import { registerMe } from './me-api.ts';
import { registerAccountPages } from './pages.tsx';
import { registerAccountSecurity } from './security-api.ts';

/** Sign-in and sessions: /api/auth, /api/me (password, two-factor) and the pages /login, /account. */
export const authFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerAuth(app, deps);
    registerMe(app, deps);
    registerAccountSecurity(app, deps);
    registerAccountPages(app, deps, deps.asset);
  });
