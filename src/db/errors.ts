/** What a failed query says about the database, read from drizzle's and the drivers' errors. */

export interface PgError {
  code: string;
  constraint?: string;
  message: string;
}

/** drizzle wraps driver errors; the PostgreSQL error (with its SQLSTATE) is somewhere in the cause chain. */
export function findPgError(error: unknown): PgError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return current as PgError;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const messagesOf = (error: unknown) =>
  `${(error as Error)?.message ?? ''} ${((error as { cause?: Error })?.cause as Error)?.message ?? ''}`;

/** A failed query or a lost database connection (drizzle wraps both as "Failed query: …"). */
export function isDatabaseError(error: unknown): boolean {
  return findPgError(error) !== undefined || /Failed query/.test(messagesOf(error)) || isDatabaseDown(error);
}

/** The database cannot be reached or is shutting down: the request may succeed if retried. */
export function isDatabaseDown(error: unknown): boolean {
  const code = findPgError(error)?.code;
  if (code) return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03';
  return /Connection terminated|ECONNREFUSED|ECONNRESET|Client has encountered a connection error|timeout exceeded when trying to connect/.test(
    messagesOf(error),
  );
}
