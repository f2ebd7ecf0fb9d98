// `postgresSenderStore`: endpoints, delivery history and pending retries in PostgreSQL, in the tables of
// Optare's docs (postgres-schema.ts). One statement per operation, on a node-postgres `Pool` (or
// `Client`) or a postgres.js `sql`. A pending retry is a delivery row whose `retry_body` is set; a
// process claims it (`claimed_by`, `claimed_until`) in one UPDATE before sending it, and the record of
// the retry clears it, so two processes never make the same attempt.
import { SENDER_SCHEMA_SQL } from "./postgres-schema";
import type { DeliveryErrorCode, DeliveryRecord, PendingAttempt, SenderStore, Webhook } from "./store";

/** The part of a node-postgres `Pool` or `Client` the store uses. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/** The part of a postgres.js `sql` (from `postgres(url)`) the store uses. */
export interface PostgresJsSql {
  unsafe(query: string, parameters?: any[], options?: { prepare?: boolean }): PromiseLike<unknown[]>;
  options?: { prepare?: boolean };
}

/** A `pg` Pool or Client, or a postgres.js `sql`. */
export type SenderPostgresClient = PgQueryable | PostgresJsSql;

export interface PostgresSenderStoreOptions {
  client: SenderPostgresClient;
}

type Row = Record<string, unknown>;
type Query = (text: string, params: unknown[]) => Promise<{ rows: Row[]; count: number }>;

function toQuery(client: SenderPostgresClient, where: string): Query {
  if (typeof client === "function" && typeof (client as PostgresJsSql).unsafe === "function") {
    const sql = client as PostgresJsSql;
    const prepare = sql.options?.prepare !== false;
    return async (text, params) => {
      const rows = (await sql.unsafe(text, params, { prepare })) as Row[] & { count?: number };
      return { rows, count: rows.count ?? rows.length };
    };
  }
  if (typeof (client as PgQueryable | null)?.query === "function") {
    const pg = client as PgQueryable;
    return async (text, params) => {
      const result = await pg.query(text, params);
      return { rows: result.rows as Row[], count: result.rowCount ?? 0 };
    };
  }
  throw new TypeError(
    `${where}: client must be a node-postgres Pool (new Pool(…) from "pg") or a postgres.js sql (postgres(url)).`,
  );
}

/**
 * Creates `webhooks` and `webhook_deliveries` and their indexes where missing, and adds the SDK's
 * columns to a `webhook_deliveries` that lacks them. Idempotent: safe on every start. The same DDL ships
 * as `@optare/webhooks-sender/schema.sql`; drizzle tables are in `@optare/webhooks-sender/drizzle`.
 */
export async function migrate(client: SenderPostgresClient): Promise<void> {
  const query = toQuery(client, "migrate");
  // One statement at a time: postgres.js's unsafe() takes one per call.
  for (const statement of SENDER_SCHEMA_SQL.split(";\n")
    .map((part) => part.trim())
    .filter(Boolean)) {
    try {
      await query(statement, []);
    } catch (error) {
      // Two processes migrating at once may race on CREATE … IF NOT EXISTS; the other one created it.
      const code = (error as { code?: string }).code;
      if (code !== "23505" && code !== "42P07" && code !== "42701") throw error;
    }
  }
}

const iso = (value: unknown): string =>
  (value instanceof Date ? value : new Date(value as string)).toISOString();
const isoOrNull = (value: unknown): string | null =>
  value === null || value === undefined ? null : iso(value);

const WEBHOOK_COLUMNS = "id, organization_id, url, events, secret, is_active, created_at";
const DELIVERY_COLUMNS =
  "id, webhook_id, event_id, event, attempt, url, status_code, response_body, error_code, error, duration_ms, success, delivered_at, next_attempt_at";

function toWebhook(row: Row): Webhook {
  return {
    id: row.id as string,
    organizationId: row.organization_id as string,
    url: row.url as string,
    events: [...(row.events as string[])],
    secret: row.secret as string,
    isActive: row.is_active as boolean,
    createdAt: iso(row.created_at),
  };
}

function toDelivery(row: Row): DeliveryRecord {
  return {
    id: row.id as string,
    webhookId: row.webhook_id as string,
    eventId: row.event_id as string,
    event: row.event as string,
    attempt: row.attempt as number,
    url: row.url as string,
    statusCode: row.status_code as number | null,
    responseBody: row.response_body as string | null,
    errorCode: row.error_code as DeliveryErrorCode | null,
    error: row.error as string | null,
    durationMs: Number(row.duration_ms),
    success: row.success as boolean,
    deliveredAt: iso(row.delivered_at),
    nextAttemptAt: isoOrNull(row.next_attempt_at),
  };
}

// Arrays travel as JSON text: both clients send a text parameter the same way, arrays differently.
const SAVE_WEBHOOK = `INSERT INTO webhooks AS w (${WEBHOOK_COLUMNS})
VALUES ($1::text, $2::text, $3::text, ARRAY(SELECT jsonb_array_elements_text($4::text::jsonb)), $5::text, $6::boolean, $7::timestamptz)
ON CONFLICT (id) DO UPDATE SET organization_id = EXCLUDED.organization_id, url = EXCLUDED.url,
  events = EXCLUDED.events, secret = EXCLUDED.secret, is_active = EXCLUDED.is_active`;

// The record of a retry also marks that retry made ($16), in the same statement. An endpoint deleted
// meanwhile gets no record (its history is gone with it).
const ADD_DELIVERY = `WITH made AS (
  UPDATE webhook_deliveries SET retry_body = NULL, claimed_by = NULL, claimed_until = NULL
  WHERE id = $16::text AND retry_body IS NOT NULL
)
INSERT INTO webhook_deliveries (${DELIVERY_COLUMNS}, retry_body)
SELECT $1::text, $2::text, $3::text, $4::text, $5::int, $6::text, $7::int, $8::text, $9::text, $10::text,
  $11::float8, $12::boolean, $13::timestamptz, $14::timestamptz, $15::text
WHERE EXISTS (SELECT 1 FROM webhooks WHERE id = $2::text)`;

const LIST_PENDING = `SELECT id, webhook_id, event_id, event, attempt, retry_body, next_attempt_at, claimed_until
FROM webhook_deliveries WHERE retry_body IS NOT NULL ORDER BY next_attempt_at, seq`;

// Row-level: of two processes updating the same row at once, the second re-checks the WHERE on the
// first one's committed row, finds it claimed (or made), and updates nothing.
const CLAIM = `UPDATE webhook_deliveries SET claimed_by = $2::text, claimed_until = $4::timestamptz
WHERE id = $1::text AND retry_body IS NOT NULL AND (claimed_until IS NULL OR claimed_until <= $3::timestamptz)
RETURNING id`;

/**
 * A `SenderStore` on PostgreSQL (run `migrate(client)` first). Endpoints in `webhooks`, every attempt in
 * `webhook_deliveries`, and each pending retry with its body, so a sender in a new process picks it up
 * with `sender.resume()` and, with several processes, exactly one of them sends it.
 */
export function postgresSenderStore({ client }: PostgresSenderStoreOptions): SenderStore {
  const query = toQuery(client, "postgresSenderStore");
  return {
    async saveWebhook(webhook) {
      const { id, organizationId, url, events, secret, isActive, createdAt } = webhook;
      await query(SAVE_WEBHOOK, [
        id,
        organizationId,
        url,
        JSON.stringify(events),
        secret,
        isActive,
        createdAt,
      ]);
    },
    async getWebhook(id) {
      const { rows } = await query(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE id = $1::text`, [id]);
      return rows[0] === undefined ? null : toWebhook(rows[0]);
    },
    async listWebhooks(organizationId) {
      const { rows } = await query(
        `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE organization_id = $1::text ORDER BY created_at, id`,
        [organizationId],
      );
      return rows.map(toWebhook);
    },
    async deleteWebhook(id) {
      const { count } = await query("DELETE FROM webhooks WHERE id = $1::text", [id]);
      return count > 0;
    },
    async addDelivery(record, details) {
      const r = record;
      await query(ADD_DELIVERY, [
        r.id,
        r.webhookId,
        r.eventId,
        r.event,
        r.attempt,
        r.url,
        r.statusCode,
        r.responseBody,
        r.errorCode,
        r.error,
        r.durationMs,
        r.success,
        r.deliveredAt,
        r.nextAttemptAt,
        r.nextAttemptAt === null ? null : (details?.body ?? null),
        details?.retryOf ?? null,
      ]).catch((error: unknown) => {
        // The endpoint was deleted between the check and the insert: nothing to record.
        if ((error as { code?: string }).code !== "23503") throw error;
      });
    },
    async listDeliveries(webhookId, limit) {
      if (limit < 1) return [];
      const { rows } = await query(
        `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE webhook_id = $1::text
ORDER BY delivered_at DESC, seq DESC LIMIT $2::int`,
        [webhookId, limit],
      );
      return rows.map(toDelivery);
    },
    async listPendingAttempts() {
      const { rows } = await query(LIST_PENDING, []);
      return rows.map(
        (row): PendingAttempt => ({
          deliveryId: row.id as string,
          webhookId: row.webhook_id as string,
          eventId: row.event_id as string,
          event: row.event as string,
          attempt: (row.attempt as number) + 1,
          body: row.retry_body as string,
          nextAttemptAt: iso(row.next_attempt_at),
          claimedUntil: isoOrNull(row.claimed_until),
        }),
      );
    },
    async claimAttempt(deliveryId, { owner, now, until }) {
      const { count } = await query(CLAIM, [deliveryId, owner, now, until]);
      return count === 1;
    },
  };
}
