import { type FeatureDeps, featureApp } from '../http/feature.ts';
import { registerUsers } from './api.ts';
import { registerUserPages } from './pages.tsx';

/** User management: /api/users and the admins' page /users. */
export const usersFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerUsers(app, deps);
    registerUserPages(app, deps, deps.asset);
  });
