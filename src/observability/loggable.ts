import { findPgError } from '../db/errors.ts';

/** `insert users`, `update users`, ... : which statement failed, without its column lists. */
function statementOf(text: string) {
  const verb = /^\s*(\w+)/.exec(text)?.[1] ?? '';
  const table = /\b(?:into|update|from)\s+("[^"]+"|\w+)/i.exec(text)?.[1]?.replaceAll('"', '') ?? '';
  return `${verb} ${table}`.trim();
}

/**
 * What of an unexpected error may be logged: drizzle puts the statement and the bound parameters
 * of a failed query (a password hash, say) in its message, so only the kind of statement, the
 * database's own message and the SQLSTATE are kept.
 */
export function loggable(error: unknown) {
  if (!(error instanceof Error)) return { message: String(error).slice(0, 200) };
  const pg = findPgError(error);
  const failed = /^Failed query: ([\s\S]*?)(?:\nparams:|$)/.exec(error.message);
  return {
    name: error.name,
    message: failed
      ? `Failed query: ${statementOf(failed[1]!)}${pg ? `: ${pg.message.slice(0, 300)}` : ''}`
      : error.message.split('\nparams:')[0]!.slice(0, 500),
    code: pg?.code,
    // Only the frames: the stack's first lines repeat the message, with drizzle's `params:` line.
    stack: error.stack
      ?.split('\n')
      .filter((line) => /^\s+at /.test(line))
      .slice(0, 5)
      .join('\n'),
  };
}
