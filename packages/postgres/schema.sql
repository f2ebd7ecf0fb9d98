-- The table of @optare/webhooks-postgres (its migrate() runs exactly this). Generated from src/sql.ts;
-- a test keeps it in step. Apply it with psql, or use migrate(client) or the drizzle table instead.
CREATE TABLE IF NOT EXISTS "optare_webhook_events" (
  id                 text PRIMARY KEY,
  type               text NOT NULL,
  status             text NOT NULL CHECK (status IN ('processing', 'completed', 'failed')),
  token              text,
  body_hash          text NOT NULL,
  body               text,
  deliveries         integer NOT NULL DEFAULT 1,
  event_time         timestamptz,
  first_received_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  last_received_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  expires_at         timestamptz NOT NULL,
  completed_at       timestamptz,
  failed_at          timestamptz,
  last_error_code    text,
  last_error_message text
);
CREATE INDEX IF NOT EXISTS "optare_webhook_events_received_idx" ON "optare_webhook_events" (first_received_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS "optare_webhook_events_status_received_idx" ON "optare_webhook_events" (status, first_received_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS "optare_webhook_events_type_received_idx" ON "optare_webhook_events" (type, first_received_at DESC, id DESC);
