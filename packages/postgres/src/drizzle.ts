// The event table as a drizzle table, for apps whose migrations drizzle-kit generates: re-export it
// from your schema file. It is the DDL of `migrate()` and `schema.sql` (a test keeps them in step).
import { index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** `optare_webhook_events`: one row per verified event. Pass `table` to name it otherwise. */
export function optareWebhookEventsTable<N extends string = "optare_webhook_events">(
  name: N = "optare_webhook_events" as N,
) {
  return pgTable(
    name,
    {
      id: text("id").primaryKey(),
      type: text("type").notNull(),
      status: text("status", { enum: ["processing", "completed", "failed"] }).notNull(),
      token: text("token"),
      bodyHash: text("body_hash").notNull(),
      body: text("body"),
      deliveries: integer("deliveries").notNull().default(1),
      eventTime: at("event_time"),
      firstReceivedAt: at("first_received_at").notNull().defaultNow(),
      lastReceivedAt: at("last_received_at").notNull().defaultNow(),
      expiresAt: at("expires_at").notNull(),
      completedAt: at("completed_at"),
      failedAt: at("failed_at"),
      lastErrorCode: text("last_error_code"),
      lastErrorMessage: text("last_error_message"),
    },
    (table) => [
      index(`${name}_received_idx`).on(table.firstReceivedAt.desc(), table.id.desc()),
      index(`${name}_status_received_idx`).on(table.status, table.firstReceivedAt.desc(), table.id.desc()),
      index(`${name}_type_received_idx`).on(table.type, table.firstReceivedAt.desc(), table.id.desc()),
    ],
  );
}

/** The default table: `export { optareWebhookEvents } from "@optare/webhooks-postgres/drizzle";` in your schema. */
export const optareWebhookEvents = optareWebhookEventsTable();
