import { type FeatureDeps, featureApp } from '../http/feature.js';
import { registerProjects } from './api.js';
import { registerProjectPages } from './pages.js';
import { registerProjectPage } from './project-pages.js';

/** Projects: /api/projects, the list /projects and one project's page /projects/{id}. */
export const projectsFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerProjects(app, deps);
    registerProjectPages(app, deps, deps.asset);
    // After the list's routes: /projects/{id} must not shadow them.
    registerProjectPage(app, deps, deps.asset);
  });
