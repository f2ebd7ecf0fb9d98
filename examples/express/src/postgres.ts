// The PostgreSQL mode of the example (SPEC §11): the idempotency store and event log live in PostgreSQL,
// and each event's claim, handlers and completion run in ONE transaction. The handler's own write (a row
// in the app's table) goes through that transaction, so it happens exactly once: a throw or a crash
// rolls it back together with the claim, and Optare's retry runs it again.
import { createWebhooks, type HandlerContext, type WebhookEvent, type Webhooks } from "@optare/webhooks";
import { migrate, postgresStore, type TransactionalPostgresStore } from "@optare/webhooks-postgres";
import type { Express } from "express";
import pg from "pg";
import { createExpressApp, failOnce, KEEP, registerHandlers } from "./app";

// Kept importable from here, where it was first used (queue.ts imports it from this file).
export { failOnce };

/** The app's table of processed events, unless `table` (or `EVENTS_TABLE` for the server) says otherwise. */
export const DEFAULT_EVENTS_TABLE = "processed_events";

export interface PostgresAppOptions {
  /** The endpoint secret Optare shows when you create the webhook. */
  secret: string | string[];
  /** `postgres://user:password@host:5432/database` (what `new pg.Pool({ connectionString })` takes). */
  databaseUrl: string;
  /** The app's table of processed events, created when missing. Default `processed_events`. */
  table?: string;
  /** The SDK's event log (what `migrate()` creates). Default `optare_webhook_events`. */
  logTable?: string;
  /**
   * For trying the rollback out (and for the e2e test): events of this type make the handler throw AFTER
   * its INSERT, on their first attempt in this process. The INSERT is rolled back with the claim, the
   * event is logged as `failed`, the delivery answered 500, and the retry inserts the row once.
   */
  failOnceType?: string;
}

export interface PostgresApp {
  app: Express;
  /** Handlers get `context.transaction`: the pg `PoolClient` of the event's transaction. */
  webhooks: Webhooks<HandlerContext & { transaction: pg.PoolClient }>;
  /** The event log: `list()`, `get(id)`, `replay(id, webhooks)`. */
  store: TransactionalPostgresStore<pg.PoolClient>;
  pool: pg.Pool;
  /** Ends the pool (after the HTTP server has closed). */
  close: () => Promise<void>;
}

/** `name` or `schema.name` in lower case, double-quoted: table names come from the environment. */
function quoteTable(table: string): string {
  const parts = table.split(".");
  if (parts.length > 2 || !parts.every((part) => /^[a-z_][a-z0-9_]{0,62}$/.test(part))) {
    throw new Error(
      `The events table must be a lower-case SQL name (or schema.name); got ${JSON.stringify(table)}.`,
    );
  }
  return parts.map((part) => `"${part}"`).join(".");
}

/** Runs DDL that may race with another process starting at the same time (CREATE … IF NOT EXISTS). */
async function ddl(pool: pg.Pool, statement: string): Promise<void> {
  try {
    await pool.query(statement);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "23505" && code !== "42P07") throw error; // The other process created it.
  }
}

export interface EventsTableOptions {
  /** `postgres://user:password@host:5432/database`. */
  databaseUrl: string;
  /** The app's table of processed events, created when missing. Default `processed_events`. */
  table?: string;
  /** The SDK's event log (what `migrate()` creates). Default `optare_webhook_events`. */
  logTable?: string;
  /** Whether to `migrate()` the SDK's event log too: where events are claimed (not a queue-mode web process). */
  migrateLog?: boolean;
}

/** The app's table of processed events, on a pool of its own. */
export interface EventsTable {
  pool: pg.Pool;
  /** Records `event` through the event's transaction: committed with its completion, or rolled back. */
  insert(transaction: pg.PoolClient, event: WebhookEvent): Promise<void>;
  /** Processed ids, newest first, at most 1000: what `GET /events` answers. */
  list(): Promise<string[]>;
  /** Ends the pool. Idempotent. */
  close(): Promise<void>;
}

/**
 * Opens a pool on `databaseUrl`, `migrate()`s the SDK's event log (unless `migrateLog: false`) and creates
 * the app's table when missing. Shared by the PostgreSQL mode and the queue mode's worker and web process.
 */
export async function openEventsTable({
  databaseUrl,
  table = DEFAULT_EVENTS_TABLE,
  logTable,
  migrateLog = true,
}: EventsTableOptions): Promise<EventsTable> {
  const quoted = quoteTable(table);
  const pool = new pg.Pool({ connectionString: databaseUrl });
  // An idle connection dropped by the server (a restart, a failover) must not crash the process.
  pool.on("error", (error) => console.error(`PostgreSQL pool: ${error.message}`));
  try {
    if (migrateLog) await migrate(pool, logTable === undefined ? {} : { table: logTable });
    await ddl(
      pool,
      `CREATE TABLE IF NOT EXISTS ${quoted} (
  event_id     text PRIMARY KEY,
  type         text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now()
)`,
    );
    const bare = table.split(".").pop()!;
    await ddl(
      pool,
      `CREATE INDEX IF NOT EXISTS "${bare.slice(0, 50)}_processed_idx" ON ${quoted} (processed_at DESC, event_id DESC)`,
    );
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }

  let ended: Promise<void> | undefined;
  return {
    pool,
    async insert(transaction, event) {
      // `now()` is the transaction's start, i.e. when the event was claimed.
      await transaction.query(`INSERT INTO ${quoted} (event_id, type) VALUES ($1, $2)`, [
        event.id,
        event.event,
      ]);
    },
    async list() {
      const { rows } = await pool.query<{ event_id: string }>(
        `SELECT event_id FROM ${quoted} ORDER BY processed_at DESC, event_id DESC LIMIT ${KEEP}`,
      );
      return rows.map((row) => row.event_id);
    },
    close: () => (ended ??= pool.end()),
  };
}

/**
 * The example app on PostgreSQL: `migrate()`s the SDK's event log, creates the app's table when missing,
 * and records every event in that table through `context.transaction`. `GET /events` reads the table
 * (ids newest first, at most 1000), so every process sharing the database lists the same events.
 */
export async function createPostgresApp({
  secret,
  databaseUrl,
  table = DEFAULT_EVENTS_TABLE,
  logTable,
  failOnceType,
}: PostgresAppOptions): Promise<PostgresApp> {
  const events = await openEventsTable({ databaseUrl, table, logTable });
  const store = postgresStore({
    client: events.pool,
    transactional: true,
    ...(logTable === undefined ? {} : { table: logTable }),
  });
  const webhooks = createWebhooks({ secret, store });

  registerHandlers(webhooks);
  const maybeFail = failOnce(failOnceType);
  webhooks.onAny(async (event, { transaction }) => {
    // Same transaction as the claim: committed with the completion, or rolled back with it.
    await events.insert(transaction, event);
    maybeFail(event);
  });

  return {
    app: createExpressApp(webhooks, events.list),
    webhooks,
    store,
    pool: events.pool,
    close: events.close,
  };
}
