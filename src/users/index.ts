import { type FeatureDeps, featureApp } from '../http/feature.js';
import { registerUsers } from './api.js';
import { registerUserPages } from './pages.js';

/** User management: /api/users and the admins' page /users. */
export const usersFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerUsers(app, deps);
    registerUserPages(app, deps, deps.asset);
  });
