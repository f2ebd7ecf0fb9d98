-- @optare/webhooks-sender: the tables of migrate(client). Generated from src/postgres-schema.ts; a test keeps them equal.
CREATE TABLE IF NOT EXISTS webhooks (
  id              text PRIMARY KEY,
  organization_id text NOT NULL,
  url             text NOT NULL,
  events          text[] NOT NULL,
  secret          text NOT NULL,
  is_active       boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS webhooks_organization_idx ON webhooks (organization_id, created_at);
CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id              text PRIMARY KEY,
  webhook_id      text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id        text NOT NULL,
  event           text NOT NULL,
  attempt         integer NOT NULL,
  url             text NOT NULL,
  status_code     integer,
  response_body   text,
  error_code      text,
  error           text,
  duration_ms     double precision NOT NULL DEFAULT 0,
  success         boolean NOT NULL,
  delivered_at    timestamptz NOT NULL DEFAULT now(),
  next_attempt_at timestamptz
);
-- Added by @optare/webhooks-sender (also to a webhook_deliveries table that already exists):
-- seq orders attempts recorded in the same millisecond; retry_body holds the exact body of the retry
-- that next_attempt_at announces until a process makes it (then NULL); claimed_by/claimed_until are
-- the hold of the process making it.
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS seq bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS retry_body text;
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS claimed_by text;
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS claimed_until timestamptz;
CREATE INDEX IF NOT EXISTS webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, delivered_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS webhook_deliveries_pending_idx ON webhook_deliveries (next_attempt_at) WHERE retry_body IS NOT NULL;
