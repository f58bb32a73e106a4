import { type FeatureDeps, featureApp } from '../http/feature.ts';
import { registerProjects } from './api.ts';
import { registerProjectPages } from './pages.tsx';
import { registerProjectPage } from './project-pages.tsx';

/** Projects: /api/projects, the list /projects and one project's page /projects/{id}. */
export const projectsFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerProjects(app, deps);
    registerProjectPages(app, deps, deps.asset);
    // After the list's routes: /projects/{id} must not shadow them.
    registerProjectPage(app, deps, deps.asset);
  });
