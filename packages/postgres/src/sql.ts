// Every statement the store sends, one per operation, built once per table name. Times are the
// database's (`clock_timestamp()`), never the receiver's. A record's `expires_at` is its lease while
// `processing` and its retention once `completed` (the Redis store's TTL, as a column).
import { WebhookError } from "@optare/webhooks";

export const DEFAULT_TABLE = "optare_webhook_events";

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** `name` or `schema.name`, checked and double-quoted. */
export function quoteTable(table: string): string {
  const parts = typeof table === "string" ? table.split(".") : [];
  if (parts.length < 1 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new WebhookError(
      "invalid_configuration",
      `postgresStore: table must be a lower-case SQL name, optionally schema-qualified ("optare_webhook_events", "app.webhook_events"); got ${JSON.stringify(table)}.`,
    );
  }
  return parts.map((part) => `"${part}"`).join(".");
}

/** The table's name without its schema, for naming its indexes. */
const bare = (table: string) => table.split(".").pop()!;

/** The DDL of `migrate()`; `schema.sql` in the package is this for the default table. */
export function schemaSql(table = DEFAULT_TABLE): string {
  const t = quoteTable(table);
  const name = bare(table);
  return `CREATE TABLE IF NOT EXISTS ${t} (
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
CREATE INDEX IF NOT EXISTS "${name}_received_idx" ON ${t} (first_received_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS "${name}_status_received_idx" ON ${t} (status, first_received_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS "${name}_type_received_idx" ON ${t} (type, first_received_at DESC, id DESC);
`;
}

export type Statements = ReturnType<typeof statements>;

/**
 * The statements for `table`. Parameters are typed in the SQL, so both clients (pg, postgres.js) send
 * them as text and PostgreSQL casts them.
 */
export function statements(table: string) {
  const t = quoteTable(table);
  const ms = (param: string) => `make_interval(secs => ${param}::float8 / 1000)`;
  // A record is claimable again once it failed (its handlers threw) or its lease or retention ran out.
  const reclaim = "(t.status = 'failed' OR t.expires_at <= clock_timestamp())";
  const take = (column: string) =>
    `${column} = CASE WHEN ${reclaim} THEN EXCLUDED.${column} ELSE t.${column} END`;
  /** $1 id, $2 type, $3 token, $4 body hash, $5 body, $6 lease ms, $7 event time ms. */
  const upsertClaim = `INSERT INTO ${t} AS t (id, type, status, token, body_hash, body, expires_at, event_time)
VALUES ($1::text, $2::text, 'processing', $3::text, $4::text, $5::text, clock_timestamp() + ${ms("$6")}, to_timestamp($7::float8 / 1000))
ON CONFLICT (id) DO UPDATE SET
  deliveries = t.deliveries + 1,
  last_received_at = clock_timestamp(),
  ${take("status")}, ${take("token")}, ${take("body_hash")}, ${take("body")}, ${take("type")}, ${take("event_time")},
  ${take("expires_at")}
RETURNING t.status, t.token = $3::text AS won, t.body_hash = $4::text AS same_body,
  greatest(1, ceil(extract(epoch FROM t.expires_at - clock_timestamp()) * 1000))::int AS left_ms`;
  // The advisory lock of an event id in this table (the table is part of the key: two tables in one
  // database must not lock each other's events). `table` is a checked SQL name, safe in a literal.
  const lock = `pg_try_advisory_xact_lock(hashtextextended('${table}:' || $1::text, 20251111))`;
  /** Token-guarded: only a live processing record held by $2. */
  const held =
    "id = $1::text AND token = $2::text AND status = 'processing' AND expires_at > clock_timestamp()";
  return {
    claim: upsertClaim,
    /**
     * The claim of a transaction: first a transaction-scoped advisory lock on the id, which never waits.
     * Not got: another transaction has this event in flight (409), and its uncommitted row must not be
     * touched (that would wait on its lock); the committed row, if any, tells a conflicting body apart.
     * $1–$7 as `claim`.
     */
    claimInTransaction: `WITH lock AS (SELECT ${lock} AS got),
claimed AS (${upsertClaim.replace(
      `VALUES ($1::text, $2::text, 'processing', $3::text, $4::text, $5::text, clock_timestamp() + ${ms("$6")}, to_timestamp($7::float8 / 1000))`,
      `SELECT $1::text, $2::text, 'processing', $3::text, $4::text, $5::text, clock_timestamp() + ${ms("$6")}, to_timestamp($7::float8 / 1000) FROM lock WHERE lock.got`,
    )})
SELECT lock.got, claimed.status, claimed.won, claimed.same_body, claimed.left_ms,
  (SELECT committed.body_hash = $4::text FROM ${t} committed WHERE committed.id = $1::text) AS committed_same_body
FROM lock LEFT JOIN claimed ON true`,
    /** $1 id, $2 token, $3 retention ms. */
    complete: `UPDATE ${t} SET status = 'completed', token = NULL, completed_at = clock_timestamp(),
  expires_at = clock_timestamp() + ${ms("$3")} WHERE ${held}`,
    /** In the claim's own transaction, which holds the id's lock: no lease to check. $1 id, $2 token, $3 retention ms. */
    completeInTransaction: `UPDATE ${t} SET status = 'completed', token = NULL, completed_at = clock_timestamp(),
  expires_at = clock_timestamp() + ${ms("$3")} WHERE id = $1::text AND token = $2::text`,
    /** $1 id, $2 token, $3 error code, $4 error message. */
    release: `UPDATE ${t} SET status = 'failed', token = NULL, failed_at = clock_timestamp(), expires_at = clock_timestamp(),
  last_error_code = $3::text, last_error_message = $4::text WHERE ${held}`,
    /** $1 id, $2 token, $3 lease ms. */
    extend: `UPDATE ${t} SET expires_at = clock_timestamp() + ${ms("$3")} WHERE ${held}`,
    /**
     * After a transaction rolled back: the failure, on a row of its own (the claim's row went with the
     * rollback). A record completed meanwhile by someone else stays completed. Under the event's lock,
     * taken without waiting: when a retry's transaction already holds it, that one's outcome is what
     * the log will say, and this statement (which would wait on its row) writes nothing.
     * $1 id, $2 type, $3 body hash, $4 body, $5 event time ms, $6 code, $7 message.
     */
    recordFailure: `WITH lock AS (SELECT ${lock} AS got)
INSERT INTO ${t} AS t (id, type, status, body_hash, body, expires_at, event_time, failed_at, last_error_code, last_error_message)
SELECT $1::text, $2::text, 'failed', $3::text, $4::text, clock_timestamp(), to_timestamp($5::float8 / 1000), clock_timestamp(), $6::text, $7::text
FROM lock WHERE lock.got
ON CONFLICT (id) DO UPDATE SET
  deliveries = t.deliveries + 1,
  last_received_at = clock_timestamp(),
  status = CASE WHEN t.status = 'completed' AND t.expires_at > clock_timestamp() THEN t.status ELSE 'failed' END,
  failed_at = clock_timestamp(),
  last_error_code = EXCLUDED.last_error_code,
  last_error_message = EXCLUDED.last_error_message`,
    /** One event by id. */
    get: `SELECT * FROM ${t} WHERE id = $1::text`,
    /**
     * A page, newest first: $1 status or NULL, $2 type or NULL, $3 cursor time or NULL, $4 cursor id,
     * $5 limit.
     */
    list: `SELECT * FROM ${t}
WHERE ($1::text IS NULL OR status = $1::text) AND ($2::text IS NULL OR type = $2::text)
  AND ($3::timestamptz IS NULL OR (first_received_at, id) < ($3::timestamptz, $4::text))
ORDER BY first_received_at DESC, id DESC LIMIT $5::int`,
    /** Makes a completed event claimable for a forced replay. $1 id. */
    reopen: `UPDATE ${t} SET status = 'failed', token = NULL WHERE id = $1::text AND status = 'completed'`,
    /**
     * One batch of pruning: completed events past their retention, failed ones failed more than $1 ms
     * ago; at most $2 rows.
     */
    prune: `DELETE FROM ${t} WHERE id IN (
  SELECT id FROM ${t}
  WHERE (status = 'completed' AND expires_at <= clock_timestamp())
     OR (status = 'failed' AND failed_at <= clock_timestamp() - ${ms("$1")})
  LIMIT $2::int FOR UPDATE SKIP LOCKED)`,
    /** Fails with 42P01 when the table is missing. */
    check: `SELECT 1 FROM ${t} LIMIT 0`,
  };
}
