-- One normalisation of usernames, in the database so that the portal, the unique index and any
-- other writer (psql, ETL) agree: Unicode NFKC, then lower() (the database's case fold), then NFKC
-- again (lowering can leave a string that is no longer NFKC). The portal looks users up and keys
-- its sign-in throttle by this value.
CREATE FUNCTION username_key(username text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN normalize(lower(normalize(username, NFKC)), NFKC);
--> statement-breakpoint
-- Usernames that were distinct before but are one account now cannot be merged silently: stop the
-- migration (and the start-up) naming them, so that an operator renames one of each pair first.
DO $$
DECLARE
  clashes text;
BEGIN
  SELECT string_agg(format('user ids %s', ids), '; ') INTO clashes
  FROM (
    SELECT string_agg(id::text, ', ' ORDER BY id) AS ids
    FROM users
    GROUP BY username_key(username)
    HAVING count(*) > 1
  ) AS same_key;
  IF clashes IS NOT NULL THEN
    RAISE EXCEPTION 'usernames that differ only by letter case or Unicode form must be renamed before this migration: %', clashes;
  END IF;
END $$;
--> statement-breakpoint
DROP INDEX "users_username_lower_key";
--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_key_unique" ON "users" USING btree (username_key("username"));
