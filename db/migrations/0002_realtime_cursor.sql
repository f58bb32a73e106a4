CREATE TABLE "realtime_cursor" (
	"name" text PRIMARY KEY NOT NULL,
	"tx_boundary" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "change_log_tx_idx" ON "change_log" USING btree ("tx_id","id");