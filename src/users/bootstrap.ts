import { randomBytes } from 'node:crypto';
import { count, sql } from 'drizzle-orm';
import { hashPassword, passwordProblem } from '../auth/passwords.ts';
import { ConfigError } from '../config.ts';
import type { Db } from '../db/database.ts';
import { users } from '../db/schema/users.ts';

/** Arbitrary constant naming "first start of an empty database" among advisory locks. */
const BOOTSTRAP_LOCK = 7_262_002;

export interface BootstrapResult {
  /** Set when this start created the admin; the password only when it was generated (print it once). */
  admin?: { username: string; generatedPassword?: string };
  /** True when the database had no users: the caller may seed demo data. */
  wasEmpty: boolean;
}

/**
 * On an empty database, creates the first admin (from PORTAL_ADMIN_*, or `admin` with a random
 * password in embedded mode). Instances starting together serialise on an advisory lock.
 */
export async function bootstrapAdmin(
  db: Db,
  admin: { username: string; password: string | undefined } | undefined,
): Promise<BootstrapResult> {
  const generated = admin && !admin.password ? randomBytes(12).toString('base64url') : undefined;
  const password = admin?.password ?? generated;
  if (admin && password) {
    const problem = passwordProblem(password, admin.username);
    if (problem) throw new ConfigError(`PORTAL_ADMIN_PASSWORD: ${problem}`);
  }
  const hash = password ? await hashPassword(password) : undefined;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`);
    const [existing] = await tx.select({ n: count() }).from(users);
    if ((existing?.n ?? 0) > 0) return { wasEmpty: false };
    if (!admin || !hash) return { wasEmpty: true };
    await tx.insert(users).values({
      username: admin.username,
      display_name: 'Administrator',
      role: 'admin',
      password_hash: hash,
    });
    return {
      wasEmpty: true,
      admin: { username: admin.username, ...(generated ? { generatedPassword: generated } : {}) },
    };
  });
}
