import type { Hook } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { ApiError } from './errors.js';

/** A 422 naming each bad field; `unknown` fields are named too. */
export function fieldErrors(error: ZodError, target?: string) {
  return error.issues.flatMap((issue) => {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: base ? `${base}.${key}` : key,
        message: 'is not a known field',
        in: target,
      }));
    }
    return [{ field: base || '(body)', message: issue.message, in: target }];
  });
}

// biome-ignore lint/suspicious/noExplicitAny: the hook serves every route, whatever its schema.
export const validationHook: Hook<any, any, any, any> = (result) => {
  if (!result.success) {
    const target = 'target' in result ? String(result.target) : undefined;
    throw new ApiError(
      'validation_failed',
      'Some fields are invalid',
      fieldErrors(result.error as ZodError, target),
    );
  }
};
