import { type FeatureDeps, featureApp } from '../http/feature.ts';
import { registerNotifications } from './api.ts';

/** Notifications: /api/notifications (the bell reads the live document). */
export const notificationsFeature = (deps: FeatureDeps) =>
  featureApp((app) => registerNotifications(app, deps));
