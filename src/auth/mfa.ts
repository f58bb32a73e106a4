import { createHash, randomInt } from 'node:crypto';
import { and, eq, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import type { Db } from '../db/database.ts';
import { userMfa, userRecoveryCodes } from '../db/schema/user-mfa.ts';
import { PortalError } from '../errors.ts';
import type { SecretBox } from './secret-box.ts';

/**
 * Two-factor sign-in with TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, ±1 step of clock
 * drift) and single-use recovery codes. Secrets are sealed at rest (SecretBox); a code's time
 * step is remembered per user, so a code works once; recovery codes are stored hashed and used
 * up in one conditional UPDATE, so two requests racing with one code sign in at most once.
 */

const ISSUER = 'Enterprise Portal';
const PERIOD = 30;
const DIGITS = 6;
/** Steps either side of now that still count (clock drift). */
const DRIFT = 1;
export const RECOVERY_CODE_COUNT = 10;
const RECOVERY_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I

const context = (userId: number) => `user_mfa:${userId}`;

function totpOf(secret: string, username: string) {
  return new TOTP({
    issuer: ISSUER,
    label: username,
    algorithm: 'SHA1',
    digits: DIGITS,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  });
}

/** The time step a code belongs to (now ±1), or undefined when it matches none. */
function matchingStep(secret: string, code: string, now = Date.now()): number | undefined {
  const delta = totpOf(secret, '').validate({ token: code, timestamp: now, window: DRIFT });
  return delta === null ? undefined : TOTP.counter({ period: PERIOD, timestamp: now }) + delta;
}

const isTotpCode = (code: string) => /^[0-9]{6}$/.test(code);
/** Recovery codes are typed as shown (`ABCDE-FGHJK`), in any case, with or without the dash. */
const normaliseRecovery = (code: string) => code.toUpperCase().replace(/[\s-]/g, '');
const hashRecovery = (userId: number, code: string) =>
  createHash('sha256')
    .update(`${userId}:${normaliseRecovery(code)}`)
    .digest('hex');

function newRecoveryCode(): string {
  const chars = Array.from({ length: 10 }, () => RECOVERY_ALPHABET[randomInt(RECOVERY_ALPHABET.length)]);
  return `${chars.slice(0, 5).join('')}-${chars.slice(5).join('')}`;
}

export async function mfaEnabled(db: Db, userId: number): Promise<boolean> {
  const [row] = await db
    .select({ on: userMfa.user_id })
    .from(userMfa)
    .where(and(eq(userMfa.user_id, userId), isNotNull(userMfa.enabled_at)));
  return row !== undefined;
}

/** Ids among `userIds` with two-factor sign-in on (the users page shows it). */
export async function mfaEnabledIds(db: Db): Promise<Set<number>> {
  const rows = await db.select({ id: userMfa.user_id }).from(userMfa).where(isNotNull(userMfa.enabled_at));
  return new Set(rows.map((r) => r.id));
}

/**
 * Starts (or restarts) enrolment: a fresh secret, pending until a code from it is confirmed.
 * The secret is answered once, here, for the authenticator app; it is never shown again.
 */
export async function startEnrolment(db: Db, box: SecretBox, user: { id: number; username: string }) {
  const secret = new Secret({ size: 20 }).base32;
  const sealed = box.seal(secret, context(user.id));
  const rows = await db
    .insert(userMfa)
    .values({ user_id: user.id, secret: sealed })
    .onConflictDoUpdate({
      target: userMfa.user_id,
      set: { secret: sealed, last_step: null, created_at: new Date() },
      // An enabled secret is never replaced: turning it off first needs a code.
      setWhere: isNull(userMfa.enabled_at),
    })
    .returning({ id: userMfa.user_id });
  if (rows.length === 0) {
    throw new PortalError('conflict', 'Two-factor sign-in is already on; turn it off first to enrol again');
  }
  return { secret, otpauth_url: totpOf(secret, user.username).toString() };
}

/**
 * Confirms enrolment with a code from the new secret: turns two-factor sign-in on and answers
 * fresh recovery codes (shown once; only their hashes are kept). Undefined for a wrong code.
 */
export async function confirmEnrolment(db: Db, box: SecretBox, userId: number, code: string) {
  return db.transaction(async (tx) => {
    const [row] = await tx.select().from(userMfa).where(eq(userMfa.user_id, userId)).for('update');
    if (!row) throw new PortalError('conflict', 'Start enrolment first (POST /api/me/mfa/totp)');
    if (row.enabled_at) throw new PortalError('conflict', 'Two-factor sign-in is already on');
    const secret = box.open(row.secret, context(userId));
    if (secret === undefined)
      throw new PortalError('conflict', 'The pending enrolment cannot be read; start enrolment again');
    const step = isTotpCode(code) ? matchingStep(secret, code) : undefined;
    if (step === undefined) return undefined;
    await tx
      .update(userMfa)
      .set({ enabled_at: new Date(), last_step: step })
      .where(eq(userMfa.user_id, userId));
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await tx.delete(userRecoveryCodes).where(eq(userRecoveryCodes.user_id, userId));
    await tx
      .insert(userRecoveryCodes)
      .values(codes.map((c) => ({ user_id: userId, code_hash: hashRecovery(userId, c) })));
    return codes;
  });
}

/**
 * Uses a second-factor code of a user with two-factor sign-in on: a TOTP code of a time step
 * later than the last one used, or an unused recovery code. True when it was accepted (and is
 * now spent); false for a wrong, replayed or used-up code.
 */
export async function useSecondFactor(
  db: Db,
  box: SecretBox,
  userId: number,
  code: string,
): Promise<boolean> {
  const trimmed = code.trim();
  if (isTotpCode(trimmed)) {
    const [row] = await db
      .select({ secret: userMfa.secret })
      .from(userMfa)
      .where(and(eq(userMfa.user_id, userId), isNotNull(userMfa.enabled_at)));
    const secret = row && box.open(row.secret, context(userId));
    const step = secret === undefined ? undefined : matchingStep(secret, trimmed);
    if (step === undefined) return false;
    // Compare-and-set: of two requests with one code, only the first moves last_step forward.
    const moved = await db
      .update(userMfa)
      .set({ last_step: step })
      .where(
        and(
          eq(userMfa.user_id, userId),
          isNotNull(userMfa.enabled_at),
          or(isNull(userMfa.last_step), lt(userMfa.last_step, step)),
        ),
      )
      .returning({ id: userMfa.user_id });
    return moved.length > 0;
  }
  if (normaliseRecovery(trimmed).length !== 10) return false;
  const used = await db
    .update(userRecoveryCodes)
    .set({ used_at: new Date() })
    .where(
      and(
        eq(userRecoveryCodes.user_id, userId),
        eq(userRecoveryCodes.code_hash, hashRecovery(userId, trimmed)),
        isNull(userRecoveryCodes.used_at),
        // Codes of an enrolment that was turned off do not count.
        sql`exists (select 1 from ${userMfa} where ${userMfa.user_id} = ${userId} and ${userMfa.enabled_at} is not null)`,
      ),
    )
    .returning({ id: userRecoveryCodes.user_id });
  return used.length > 0;
}

/** How many unused recovery codes a user has left. */
export async function recoveryCodesLeft(db: Db, userId: number): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(userRecoveryCodes)
    .where(and(eq(userRecoveryCodes.user_id, userId), isNull(userRecoveryCodes.used_at)));
  return row?.n ?? 0;
}

/** Turns two-factor sign-in off (the user after a code, or an admin's reset); true when it was on or pending. */
export async function removeMfa(db: Db, userId: number): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.delete(userRecoveryCodes).where(eq(userRecoveryCodes.user_id, userId));
    const gone = await tx
      .delete(userMfa)
      .where(eq(userMfa.user_id, userId))
      .returning({ id: userMfa.user_id });
    return gone.length > 0;
  });
}

/** Where a user stands: no secret, a secret waiting for its first code, or two-factor sign-in on. */
export async function mfaState(db: Db, userId: number): Promise<'off' | 'pending' | 'on'> {
  const [row] = await db
    .select({ enabled_at: userMfa.enabled_at })
    .from(userMfa)
    .where(eq(userMfa.user_id, userId));
  return !row ? 'off' : row.enabled_at ? 'on' : 'pending';
}

/** The secret of a pending enrolment (the setup page shows it until the first code confirms it). */
export async function pendingEnrolment(db: Db, box: SecretBox, user: { id: number; username: string }) {
  const [row] = await db
    .select({ secret: userMfa.secret })
    .from(userMfa)
    .where(and(eq(userMfa.user_id, user.id), isNull(userMfa.enabled_at)));
  const secret = row && box.open(row.secret, context(user.id));
  return secret === undefined ? undefined : { secret, otpauth_url: totpOf(secret, user.username).toString() };
}
