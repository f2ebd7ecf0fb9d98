// postgresSenderStore against the real PostgreSQL: the SenderStore behaviour on pg and on postgres.js
// (once per supported major, 3.x and 4.x), the
// schema in its three forms (migrate, schema.sql, drizzle), the docs' drizzle queries on the tables the
// sender writes, and pending retries handed from one sender to another in this process.
import { readFile } from "node:fs/promises";
import { desc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import { getTableConfig } from "drizzle-orm/pg-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { webhookDeliveries, webhooks } from "./drizzle";
import {
  createSender,
  createVirtualClock,
  type DeliveryRecord,
  migrate,
  postgresSenderStore,
  type Sender,
  type SenderStore,
  type Webhook,
} from "./index";
import { SENDER_SCHEMA_SQL } from "./postgres-schema";
import { checkPostgres, POSTGRES_JS_MAJORS, setupSchema } from "./test-postgres";
import { MINUTE, org, reply, START, startServer, type TestServer, user } from "./test-server";

const up = await checkPostgres();

describe.runIf(up)("postgresSenderStore (real PostgreSQL)", () => {
  let db: Awaited<ReturnType<typeof setupSchema>>;
  beforeAll(async () => {
    db = await setupSchema();
  });
  afterAll(() => db?.cleanup());
  beforeEach(async () => {
    await db.pool.query("TRUNCATE webhooks CASCADE");
  });

  function webhook(id: string, organizationId = "org_abc", isActive = true): Webhook {
    return {
      id,
      organizationId,
      url: `https://example.com/${id}`,
      events: ["user.created", "user.deleted"],
      secret: "0123456789abcdef".repeat(4),
      isActive,
      createdAt: new Date(START).toISOString(),
    };
  }

  function delivery(webhookId: string, n: number, overrides: Partial<DeliveryRecord> = {}): DeliveryRecord {
    return {
      id: `dlv_${webhookId}_${n}`,
      webhookId,
      eventId: `evt_${n}`,
      event: "user.created",
      attempt: 1,
      url: `https://example.com/${webhookId}`,
      statusCode: 500,
      responseBody: "nope",
      errorCode: "http_status",
      error: "http_status: 500 Internal Server Error",
      durationMs: 12.5,
      success: false,
      deliveredAt: new Date(START + n * 1000).toISOString(),
      nextAttemptAt: null,
      ...overrides,
    };
  }

  describe("the schema", () => {
    it("migrate is idempotent, also run by several callers at once (pg, postgres.js 3 and 4)", async () => {
      await migrate(db.pool);
      for (const major of POSTGRES_JS_MAJORS) await migrate(db.postgresJs[major]);
      await Promise.all([migrate(db.pool), migrate(db.pool), migrate(db.sql), migrate(db.sql4)]);
      const { rows } = await db.pool.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = $1 AND tablename IN ('webhooks', 'webhook_deliveries')",
        [db.schema],
      );
      expect(rows[0].n).toBe(2);
    });

    it("ships schema.sql with exactly the DDL of migrate()", async () => {
      const file = await readFile(new URL("../schema.sql", import.meta.url), "utf8");
      expect(file.slice(file.indexOf("\n") + 1)).toBe(SENDER_SCHEMA_SQL);
    });

    it("has drizzle tables with the database's columns, types and nullability", async () => {
      for (const table of [webhooks, webhookDeliveries]) {
        const config = getTableConfig(table);
        const { rows } = await db.pool.query(
          `SELECT column_name, udt_name, is_nullable FROM information_schema.columns
           WHERE table_schema = $1 AND table_name = $2 ORDER BY column_name`,
          [db.schema, config.name],
        );
        const fromDb = rows.map((row) => `${row.column_name} ${row.udt_name} ${row.is_nullable}`);
        const udt: Record<string, string> = {
          PgText: "text",
          PgArray: "_text",
          PgBoolean: "bool",
          PgTimestamp: "timestamptz",
          PgInteger: "int4",
          PgDoublePrecision: "float8",
          PgBigInt53: "int8",
        };
        const fromDrizzle = config.columns
          .map((c) => `${c.name} ${udt[c.columnType]} ${c.notNull ? "NO" : "YES"}`)
          .sort();
        expect(fromDrizzle).toEqual(fromDb);
        expect(config.indexes.map((i) => i.config.name).sort()).toEqual(
          (
            await db.pool.query(
              "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexname NOT LIKE '%_pkey' ORDER BY 1",
              [db.schema, config.name],
            )
          ).rows.map((row) => row.indexname),
        );
      }
    });
  });

  for (const clientName of ["pg", ...POSTGRES_JS_MAJORS.map((major) => `postgres.js ${major}` as const)]) {
    describe(`the SenderStore on ${clientName}`, () => {
      let store: SenderStore;
      beforeAll(() => {
        const client = clientName === "pg" ? db.pool : clientName === "postgres.js 3" ? db.sql : db.sql4;
        store = postgresSenderStore({ client });
      });

      it("saves, reads, lists per organization, updates and deletes endpoints", async () => {
        await store.saveWebhook(webhook("wh_a"));
        await store.saveWebhook({ ...webhook("wh_b"), createdAt: new Date(START + 1).toISOString() });
        await store.saveWebhook(webhook("wh_c", "org_other"));
        expect(await store.getWebhook("wh_a")).toEqual(webhook("wh_a"));
        expect(await store.getWebhook("wh_missing")).toBeNull();
        expect((await store.listWebhooks("org_abc")).map((w) => w.id)).toEqual(["wh_a", "wh_b"]);
        expect(await store.listWebhooks("org_none")).toEqual([]);

        await store.saveWebhook({ ...webhook("wh_a"), isActive: false, events: ["session.created"] });
        expect(await store.getWebhook("wh_a")).toMatchObject({
          isActive: false,
          events: ["session.created"],
        });

        expect(await store.deleteWebhook("wh_a")).toBe(true);
        expect(await store.deleteWebhook("wh_a")).toBe(false);
        expect(await store.getWebhook("wh_a")).toBeNull();
      });

      it("lists the newest 50 deliveries of one endpoint, newest first, same-instant ones by arrival", async () => {
        await store.saveWebhook(webhook("wh_a"));
        await store.saveWebhook(webhook("wh_b"));
        for (let n = 1; n <= 60; n++) await store.addDelivery(delivery("wh_a", n));
        await store.addDelivery(delivery("wh_b", 1));
        const sameInstant = { deliveredAt: new Date(START + 61_000).toISOString() };
        await store.addDelivery(delivery("wh_a", 61, sameInstant));
        await store.addDelivery(delivery("wh_a", 62, sameInstant));

        const listed = await store.listDeliveries("wh_a", 50);
        expect(listed).toHaveLength(50);
        expect(listed.map((d) => d.id)).toEqual(
          [62, 61, ...Array.from({ length: 48 }, (_, i) => 60 - i)].map((n) => `dlv_wh_a_${n}`),
        );
        expect(listed[2]).toEqual(delivery("wh_a", 60)); // every field round-trips
        expect(await store.listDeliveries("wh_a", 0)).toEqual([]);
        expect(await store.listDeliveries("wh_b", 50)).toEqual([delivery("wh_b", 1)]);
      });

      it("records nothing for an unknown endpoint, and deleting an endpoint deletes its history", async () => {
        await store.addDelivery(delivery("wh_gone", 1));
        expect(await store.listDeliveries("wh_gone", 50)).toEqual([]);
        await store.saveWebhook(webhook("wh_a"));
        await store.addDelivery(delivery("wh_a", 1));
        await store.deleteWebhook("wh_a");
        const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM webhook_deliveries");
        expect(rows[0].n).toBe(0);
      });

      it("keeps a pending retry until one claim takes it and its record makes it", async () => {
        await store.saveWebhook(webhook("wh_a"));
        const due = new Date(START + MINUTE).toISOString();
        const failedFirst = delivery("wh_a", 1, { nextAttemptAt: due });
        await store.addDelivery(failedFirst, { body: '{"id":"evt_1"}', retryOf: null });
        // A record without a next attempt keeps no body.
        await store.addDelivery(delivery("wh_a", 2), { body: '{"id":"evt_2"}', retryOf: null });
        expect(await store.listPendingAttempts!()).toEqual([
          {
            deliveryId: failedFirst.id,
            webhookId: "wh_a",
            eventId: "evt_1",
            event: "user.created",
            attempt: 2,
            body: '{"id":"evt_1"}',
            nextAttemptAt: due,
            claimedUntil: null,
          },
        ]);

        const at = (ms: number) => new Date(START + ms).toISOString();
        const claim = (owner: string, now: number) =>
          store.claimAttempt!(failedFirst.id, { owner, now: at(now), until: at(now + 90_000) });
        const racing = await Promise.all([claim("p1", MINUTE), claim("p2", MINUTE), claim("p3", MINUTE)]);
        expect(racing.filter(Boolean)).toHaveLength(1);
        expect(await claim("p4", MINUTE + 89_999)).toBe(false); // still held
        expect((await store.listPendingAttempts!())[0]?.claimedUntil).toBe(at(MINUTE + 90_000));
        expect(await claim("p4", MINUTE + 90_000)).toBe(true); // the holder died: its hold lapsed

        await store.addDelivery(delivery("wh_a", 3, { attempt: 2, success: true }), {
          body: '{"id":"evt_1"}',
          retryOf: failedFirst.id,
        });
        expect(await store.listPendingAttempts!()).toEqual([]);
        expect(await claim("p5", 10 * MINUTE)).toBe(false); // made: nobody sends it again
      });
    });
  }

  describe("under a sender", () => {
    let receiver: TestServer;
    let status = 500;
    const open: Sender[] = [];
    beforeAll(async () => {
      receiver = await startServer((request, response, index) => reply(status)(request, response, index));
    });
    afterAll(async () => {
      await Promise.all(open.map((s) => s.close()));
      await receiver?.close();
    });
    beforeEach(() => {
      receiver.requests.length = 0;
      status = 500;
    });

    function sender(clock = createVirtualClock(START)) {
      const created = createSender({
        store: postgresSenderStore({ client: db.pool }),
        clock,
        allowInsecure: true,
      });
      open.push(created);
      return { sender: created, clock };
    }

    it("answers the docs' drizzle queries as printed (Viewing Delivery History, Disabling/Enabling, Creating)", async () => {
      // The docs' code, adapted only in its imports: `db` is drizzle on the app's pool, and the schema
      // module re-exports the sender's tables.
      const dbDrizzle = drizzle(db.pool);
      async function getWebhookDeliveries(webhookId: string) {
        return await dbDrizzle
          .select()
          .from(webhookDeliveries)
          .where(eq(webhookDeliveries.webhookId, webhookId))
          .orderBy(desc(webhookDeliveries.deliveredAt))
          .limit(50);
      }
      async function toggleWebhook(webhookId: string, isActive: boolean) {
        await dbDrizzle.update(webhooks).set({ isActive }).where(eq(webhooks.id, webhookId));
      }
      async function createWebhook(organizationId: string, url: string, events: string[]) {
        const crypto = await import("node:crypto");
        const secret = crypto.randomBytes(32).toString("hex");
        const [created] = await dbDrizzle
          .insert(webhooks)
          .values({ id: crypto.randomUUID(), organizationId, url, events, secret, isActive: true })
          .returning();
        return created;
      }

      const { sender: s, clock } = sender();
      const endpoint = await createWebhook(org.id, receiver.url, ["user.created"]);
      expect(await s.getWebhook(endpoint!.id)).toMatchObject({ url: receiver.url, isActive: true });

      await s.emit("user.created", { user }, org); // attempt 1 fails
      await clock.advance(MINUTE); // attempt 2 fails
      status = 200;
      await clock.advance(5 * MINUTE); // attempt 3 succeeds
      await s.emit("user.created", { user }, org); // attempt 1 of a second event succeeds
      expect(receiver.requests).toHaveLength(4);

      const rows = await getWebhookDeliveries(endpoint!.id);
      const history = await s.listDeliveries(endpoint!.id);
      expect(history).toHaveLength(4);
      expect(rows.map((row) => [row.id, row.attempt, row.success, row.statusCode, row.deliveredAt])).toEqual(
        history.map((d) => [d.id, d.attempt, d.success, d.statusCode, new Date(d.deliveredAt)]),
      );
      expect(rows[1]).toMatchObject({ attempt: 3, success: true, nextAttemptAt: null, retryBody: null });
      expect(rows[2]).toMatchObject({
        attempt: 2,
        success: false,
        nextAttemptAt: new Date(START + 6 * MINUTE),
        retryBody: null, // made
      });

      // Disabled through the docs' toggle: the retry that comes due is recorded, not sent.
      status = 500;
      await s.emit("user.created", { user }, org);
      await toggleWebhook(endpoint!.id, false);
      await s.emit("user.created", { user }, org); // not sent: inactive endpoints get nothing
      await clock.advance(MINUTE);
      expect(receiver.requests).toHaveLength(5);
      const [newest] = await getWebhookDeliveries(endpoint!.id);
      expect(newest).toMatchObject({ attempt: 2, errorCode: "endpoint_disabled", nextAttemptAt: null });
      expect(await s.pendingRetries).toBe(0);
    });

    it("hands pending retries to a new sender: resume() sends each once, on its stored schedule", async () => {
      const first = sender();
      const endpoint = await first.sender.createWebhook(org.id, receiver.url, ["user.created"]);
      await first.sender.emit("user.created", { user }, org);
      await first.sender.emit("user.created", { user }, org);
      await first.clock.advance(MINUTE); // both attempt 2s fail; attempt 3s due at +6 min
      await first.sender.close(); // the retries stay in the store
      expect(receiver.requests).toHaveLength(4);

      const second = sender(createVirtualClock(START + 2 * MINUTE));
      expect(await second.sender.resume()).toBe(2);
      expect(await second.sender.resume()).toBe(0); // already scheduled here
      await second.clock.advance(4 * MINUTE - 1);
      expect(receiver.requests).toHaveLength(4);
      status = 200;
      await second.clock.advance(1);
      expect(receiver.requests).toHaveLength(6);
      await second.clock.runAll();
      expect(receiver.requests).toHaveLength(6);
      const history = await second.sender.listDeliveries(endpoint.id);
      expect(history.map((d) => [d.attempt, d.success])).toEqual([
        [3, true],
        [3, true],
        [2, false],
        [2, false],
        [1, false],
        [1, false],
      ]);
      expect(await postgresSenderStore({ client: db.pool }).listPendingAttempts!()).toEqual([]);
    });
  });
});
