import { WebhookError } from "@optare/webhooks";
import { createDb, type PostgresClient } from "./client";
import { DEFAULT_TABLE, schemaSql } from "./sql";

/**
 * Creates the event table and its indexes when they are missing (idempotent: safe on every start). The
 * same DDL ships as `@optare/webhooks-postgres/schema.sql`, and as a drizzle table in
 * `@optare/webhooks-postgres/drizzle` for apps whose migrations drizzle-kit generates.
 */
export async function migrate(
  client: PostgresClient,
  { table = DEFAULT_TABLE }: { table?: string } = {},
): Promise<void> {
  const db = createDb(client, false);
  // Statement by statement: postgres.js's unsafe() takes one at a time with parameters, and pg's query
  // takes several only without them.
  for (const statement of schemaSql(table)
    .split(";\n")
    .map((part) => part.trim())
    .filter(Boolean)) {
    try {
      await db.query(statement, []);
    } catch (error) {
      // Two processes migrating at once may race on CREATE … IF NOT EXISTS (a unique violation on the
      // catalog); the other one created it.
      if ((error as { code?: string }).code === "23505" || (error as { code?: string }).code === "42P07")
        continue;
      throw new WebhookError("store_unavailable", `migrate: ${(error as Error).message}`, { cause: error });
    }
  }
}
