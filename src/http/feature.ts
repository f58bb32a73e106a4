import { OpenAPIHono } from '@hono/zod-openapi';
import type { SecretBox } from '../auth/secret-box.ts';
import type { AssetUrl } from '../views/layout.tsx';
import type { App, AppDeps, AppEnv } from './context.ts';
import { validationHook } from './validation.ts';

/** What every feature gets: the app's long-lived dependencies and the fingerprinted asset URLs. */
export interface FeatureDeps extends AppDeps {
  mfa: SecretBox;
  asset: AssetUrl;
}

/**
 * One feature's routes (its API and its pages) on a sub-app of their own, mounted by `createApp`
 * with `app.route('/', …)`: its OpenAPI definitions join the app's document, and the app's
 * middleware and error mapping apply to it as to every route.
 */
export function featureApp(register: (app: App) => void): App {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  register(app);
  return app;
}
