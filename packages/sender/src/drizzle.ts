// The sender's tables for drizzle: `webhooks` and `webhookDeliveries`, the names Optare's docs import
// from "~/lib/db/schema". Re-export them from your schema file and the docs' queries run as printed:
//   export { webhookDeliveries, webhooks } from "@optare/webhooks-sender/drizzle";
// They are the DDL of `migrate()` and `schema.sql` (a test keeps them in step).
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  doublePrecision,
  index,
  integer,
  pgTable,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

const at = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** Endpoints: `{ id, organizationId, url, events, secret, isActive, createdAt }`. */
export const webhooks = pgTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    organizationId: text("organization_id").notNull(),
    url: text("url").notNull(),
    events: text("events").array().notNull(),
    secret: text("secret").notNull(),
    isActive: boolean("is_active").notNull().default(true),
    createdAt: at("created_at").notNull().defaultNow(),
  },
  (table) => [index("webhooks_organization_idx").on(table.organizationId, table.createdAt)],
);

/** One row per attempt; the last four columns are the sender's own (retries across restarts). */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    event: text("event").notNull(),
    attempt: integer("attempt").notNull(),
    url: text("url").notNull(),
    statusCode: integer("status_code"),
    responseBody: text("response_body"),
    errorCode: text("error_code"),
    error: text("error"),
    durationMs: doublePrecision("duration_ms").notNull().default(0),
    success: boolean("success").notNull(),
    deliveredAt: at("delivered_at").notNull().defaultNow(),
    nextAttemptAt: at("next_attempt_at"),
    /** Orders attempts recorded in the same millisecond. */
    seq: bigint("seq", { mode: "number" }).generatedAlwaysAsIdentity(),
    /** The body of the retry `nextAttemptAt` announces, until a sender process makes it. */
    retryBody: text("retry_body"),
    /** The sender process making that retry, and until when its hold lasts. */
    claimedBy: text("claimed_by"),
    claimedUntil: at("claimed_until"),
  },
  (table) => [
    index("webhook_deliveries_webhook_idx").on(table.webhookId, table.deliveredAt.desc(), table.seq.desc()),
    index("webhook_deliveries_pending_idx")
      .on(table.nextAttemptAt)
      .where(sql`${table.retryBody} IS NOT NULL`),
  ],
);
