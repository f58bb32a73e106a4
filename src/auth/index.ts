import { type FeatureDeps, featureApp } from '../http/feature.js';
import { registerAuth } from './api.js';
import { registerMe } from './me-api.js';
import { registerAccountPages } from './pages.js';
import { registerAccountSecurity } from './security-api.js';

/** Sign-in and sessions: /api/auth, /api/me (password, two-factor) and the pages /login, /account. */
export const authFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerAuth(app, deps);
    registerMe(app, deps);
    registerAccountSecurity(app, deps);
    registerAccountPages(app, deps, deps.asset);
  });
