ALTER TABLE "auth_sessions" ADD COLUMN "last_used_at" timestamp with time zone;--> statement-breakpoint
UPDATE "auth_sessions" SET "last_used_at" = "created_at";--> statement-breakpoint
ALTER TABLE "auth_sessions" ALTER COLUMN "last_used_at" SET DEFAULT now();--> statement-breakpoint
ALTER TABLE "auth_sessions" ALTER COLUMN "last_used_at" SET NOT NULL;
