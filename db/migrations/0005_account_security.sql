-- Account security (hand-written). Two-factor data lives in tables of its own that the change
-- capture triggers do not watch: nothing of a secret or a recovery code ever reaches change_log.
ALTER TABLE "users" ADD COLUMN "must_change_password" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
-- The flag is account state, not organisation data: the change log (audit trail and realtime
-- feed) keeps the user row it always had, and setting the flag alone writes no change.
CREATE OR REPLACE FUNCTION portal_row_json(r jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT r - 'password_hash' - 'updated_at' - 'must_change_password'
$$;
--> statement-breakpoint
-- One row per user with a TOTP secret: `secret` is sealed with AES-256-GCM (MFA_ENCRYPTION_KEY);
-- `enabled_at` is null while enrolment waits for the first code; `last_step` is the last accepted
-- RFC 6238 time step, so a code cannot be used twice.
CREATE TABLE "user_mfa" (
  "user_id" integer PRIMARY KEY NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
  "secret" text NOT NULL,
  "enabled_at" timestamp with time zone,
  "last_step" bigint,
  "created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- Single-use recovery codes, stored as SHA-256 hashes; `used_at` is set once, atomically.
CREATE TABLE "user_recovery_codes" (
  "user_id" integer NOT NULL REFERENCES "users"("id") ON DELETE CASCADE,
  "code_hash" text NOT NULL,
  "used_at" timestamp with time zone,
  CONSTRAINT "user_recovery_codes_pkey" PRIMARY KEY ("user_id", "code_hash")
);
