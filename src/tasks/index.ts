import { type FeatureDeps, featureApp } from '../http/feature.ts';
import { registerTasks } from './api.ts';
import { registerTaskListPages } from './pages.tsx';
import { registerTaskPages } from './task-pages.tsx';

/** Tasks: /api/tasks (and its CSV export), the list and board /tasks, one task's page /tasks/{id}. */
export const tasksFeature = (deps: FeatureDeps) =>
  featureApp((app) => {
    registerTasks(app, deps);
    registerTaskListPages(app, deps, deps.asset);
    // After /tasks/new and /tasks/export.csv: /tasks/{id} must not shadow them.
    registerTaskPages(app, deps, deps.asset);
  });
