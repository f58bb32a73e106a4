import { bigint, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

/**
 * A user's TOTP secret (sealed with AES-256-GCM, see src/auth/secret-box.ts). Kept out of
 * `users` so the change-capture triggers never see it. `enabled_at` null: enrolment is pending.
 * `last_step`: the last accepted time step, so a code cannot be replayed.
 */
export const userMfa = pgTable('user_mfa', {
  user_id: integer()
    .primaryKey()
    .references(() => users.id, { onDelete: 'cascade' }),
  secret: text().notNull(),
  enabled_at: timestamp({ withTimezone: true, mode: 'date' }),
  last_step: bigint({ mode: 'number' }),
  created_at: timestamp({ withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** Single-use recovery codes, as SHA-256 hashes. */
export const userRecoveryCodes = pgTable(
  'user_recovery_codes',
  {
    user_id: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    code_hash: text().notNull(),
    used_at: timestamp({ withTimezone: true, mode: 'date' }),
  },
  (t) => [primaryKey({ columns: [t.user_id, t.code_hash], name: 'user_recovery_codes_pkey' })],
);
