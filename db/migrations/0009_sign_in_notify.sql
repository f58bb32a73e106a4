-- Sign-in changes made outside the portal (psql, a script) reach every instance's sign-in cache at
-- once (docs/decisions/0032-sign-in-changes-from-outside.md): a change of a user row, or of a
-- sign-in's end (revoked, expiry, owner) or its removal (DELETE, TRUNCATE: "sign everyone out"),
-- NOTIFYs portal_sign_ins; the realtime leader LISTENs and invalidates every instance's cache.
-- Stamping "last used" does not notify.
-- PostgreSQL folds the same notification within a transaction to one.
CREATE FUNCTION portal_sign_in_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('portal_sign_ins', '');
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER users_sign_in_notify AFTER UPDATE OR DELETE OR TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION portal_sign_in_notify();
--> statement-breakpoint
CREATE TRIGGER auth_sessions_sign_in_notify AFTER UPDATE OF revoked_at, expires_at, user_id ON auth_sessions
  FOR EACH STATEMENT EXECUTE FUNCTION portal_sign_in_notify();
--> statement-breakpoint
CREATE TRIGGER auth_sessions_sign_in_notify_delete AFTER DELETE OR TRUNCATE ON auth_sessions
  FOR EACH STATEMENT EXECUTE FUNCTION portal_sign_in_notify();
