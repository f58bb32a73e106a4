import { type FeatureDeps, featureApp } from '../http/feature.js';
import { registerNotifications } from './api.js';

/** Notifications: /api/notifications (the bell reads the live document). */
export const notificationsFeature = (deps: FeatureDeps) =>
  featureApp((app) => registerNotifications(app, deps));
