import type { Hook } from '@hono/zod-openapi';
import type { ZodError } from 'zod';
import { ApiError } from './errors.ts';

type Issue = ZodError['issues'][number];

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
const FORMATS: Record<string, string> = {
  date: 'must be a date written like 2026-12-31',
  datetime: 'must be a date and time written like 2026-12-31T09:30:00Z',
  email: 'must be an email address',
  url: 'must be a web address',
  uuid: 'must be an identifier like 123e4567-e89b-12d3-a456-426614174000',
};

/**
 * The one place a broken rule becomes words a person would write: the API's 422 details and the
 * pages' inline errors both come from here. The message follows the field's name ("Title can be at
 * most 200 characters long"), states the limit, and never quotes zod ("Too big: expected string to
 * have <=200 characters"). Messages a schema wrote itself (lower-case, e.g. "must not be empty") are
 * already sentences and are kept.
 */
export function humanMessage(issue: Issue): string {
  if (/^[a-z]/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'too_big': {
      const max = Number(issue.maximum);
      const bound = issue.inclusive === false ? max - 1 : max;
      if (issue.origin === 'string') return `can be at most ${plural(bound, 'character')} long`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `can have at most ${plural(bound, 'item')}`;
      return `must be ${bound.toLocaleString('en')} or less`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      const bound = issue.inclusive === false ? min + 1 : min;
      if (issue.origin === 'string')
        return bound <= 1 ? 'must not be empty' : `must be at least ${plural(bound, 'character')} long`;
      if (issue.origin === 'array' || issue.origin === 'set')
        return `needs at least ${plural(bound, 'item')}`;
      return `must be ${bound.toLocaleString('en')} or more`;
    }
    case 'invalid_type': {
      if (/received undefined$/.test(issue.message)) return 'is required';
      const expected = String(issue.expected);
      if (expected === 'int' || expected === 'number') return 'must be a whole number';
      if (expected === 'boolean') return 'must be true or false';
      if (expected === 'string') return 'must be text';
      if (expected === 'array') return 'must be a list';
      if (expected === 'object') return 'must be an object';
      return `must be ${/^[aeiou]/.test(expected) ? 'an' : 'a'} ${expected}`;
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => String(v));
      if (values.length === 1) return `must be ${values[0]}`;
      return `must be one of ${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
    }
    case 'invalid_format':
      return FORMATS[issue.format] ?? 'is not in the expected format';
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'invalid_union':
      return 'is not a value this field accepts';
    default:
      return 'is not valid';
  }
}

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
    return [{ field: base || '(body)', message: humanMessage(issue), in: target }];
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
