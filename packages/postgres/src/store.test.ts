// postgresStore against the real PostgreSQL, with both clients: the shared store contract, one statement
// per operation, the transactional mode, the event log and its replay, and the configuration errors.
// Every postgres.js case runs once per supported major (3.x and 4.x), its title naming it.
import { readFileSync } from "node:fs";
import { createWebhooks, type WebhookEvent } from "@optare/webhooks";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { describeStoreContract } from "@optare/webhooks-testing/store-contract";
import { getTableConfig } from "drizzle-orm/pg-core";
import pg from "pg";
import type postgres from "postgres";
import type postgres4 from "postgres-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { optareWebhookEvents } from "./drizzle";
import { migrate } from "./migrate";
import { schemaSql } from "./sql";
import { postgresStore } from "./store";
import {
  checkPostgres,
  createTableName,
  DATABASE_URL,
  POSTGRES_JS_MAJORS,
  postgresJsName,
  setupDatabase,
} from "./test-postgres";

const up = await checkPostgres();
const secret = "0123456789abcdef".repeat(4);
const db = up ? await setupDatabase() : undefined;
afterAll(() => db?.cleanup());

const post = (event: unknown, key = secret) => {
  const { body, headers } = signEvent(event, key);
  return new Request("http://localhost/webhooks/optare", { method: "POST", body, headers });
};
const statusOf = async (response: Response) => ({ status: response.status, body: await response.json() });

describe.runIf(up)("postgresStore", () => {
  const { pool, sql4, postgresJs, table } = db ?? ({} as NonNullable<typeof db>);

  describeStoreContract("postgresStore (pg Pool)", (options) =>
    postgresStore({ client: pool, table, ...options }),
  );
  describeStoreContract("postgresStore (pg Pool, transactional)", (options) =>
    postgresStore({ client: pool, table, transactional: true, ...options }),
  );
  for (const major of POSTGRES_JS_MAJORS) {
    describeStoreContract(`postgresStore (${postgresJsName(major)})`, (options) =>
      postgresStore({ client: postgresJs[major], table, ...options }),
    );
    describeStoreContract(`postgresStore (${postgresJsName(major)}, transactional)`, (options) =>
      postgresStore({ client: postgresJs[major], table, transactional: true, ...options }),
    );
  }

  describe("one SQL statement per store operation", () => {
    /** A pg Pool that counts the statements sent through it (and its clients). */
    function countingPool() {
      const counted = { statements: 0 };
      const client = Object.assign(Object.create(pool), {
        query: (text: string, values: unknown[]) => {
          counted.statements++;
          return pool.query(text, values);
        },
      });
      return { client: client as pg.Pool, counted };
    }

    it("claim, complete, release and extend are one statement each (pg)", async () => {
      const { client, counted } = countingPool();
      const store = postgresStore({ client, table });
      const id = `evt_count_${Date.now()}`;
      const claim = await store.claim(id, "h");
      expect(counted.statements).toBe(1);
      if (claim.status !== "claimed") throw new Error("expected a claim");
      await store.extend(id, claim.token);
      expect(counted.statements).toBe(2);
      await store.release(id, claim.token, { code: "handler_failed", message: "x" });
      expect(counted.statements).toBe(3);
      const again = await store.claim(id, "h");
      if (again.status !== "claimed") throw new Error("expected a claim");
      await store.complete(id, again.token);
      expect(counted.statements).toBe(5);
      await store.claim(id, "h"); // a duplicate
      expect(counted.statements).toBe(6);
    });

    it.each(POSTGRES_JS_MAJORS)(
      "a delivery through the receiver is 2 statements: claim and complete (postgres.js %i)",
      async (major) => {
        const sql = postgresJs[major];
        let statements = 0;
        const counting = new Proxy(sql, {
          get(target, property, receiver) {
            if (property === "unsafe") {
              return (...args: Parameters<typeof sql.unsafe>) => {
                statements++;
                return target.unsafe(...args);
              };
            }
            return Reflect.get(target, property, receiver);
          },
        });
        const webhooks = createWebhooks({
          secret,
          store: postgresStore({ client: counting, table }),
          logger: false,
        });
        expect((await webhooks.handle(post(createEvent("user.created")))).status).toBe(200);
        expect(statements).toBe(2);
      },
    );

    it("expires on the database's clock, not the receiver's", async () => {
      const store = postgresStore({ client: pool, table, leaseMs: 60_000 });
      const id = `evt_clock_${Date.now()}`;
      await store.claim(id, "h");
      const { rows } = await pool.query(
        `SELECT extract(epoch FROM expires_at - now()) AS left FROM "${table}" WHERE id = $1`,
        [id],
      );
      expect(Number(rows[0].left)).toBeGreaterThan(59);
      expect(Number(rows[0].left)).toBeLessThanOrEqual(60.5);
    });
  });

  describe("transactional mode", () => {
    let app: string;
    beforeAll(async () => {
      app = createTableName();
      await pool.query(`CREATE TABLE "${app}" (event_id text NOT NULL, note text)`);
    });
    afterAll(() => pool.query(`DROP TABLE IF EXISTS "${app}"`));
    const rowsFor = async (id: string) =>
      Number((await pool.query(`SELECT count(*) AS n FROM "${app}" WHERE event_id = $1`, [id])).rows[0].n);

    it("commits the handler's writes with the completion (pg: context.transaction is the PoolClient)", async () => {
      const webhooks = createWebhooks({
        secret,
        store: postgresStore({ client: pool, table, transactional: true }),
        logger: false,
      });
      webhooks.on("user.created", async (event, { transaction }) => {
        await transaction.query(`INSERT INTO "${app}" (event_id) VALUES ($1)`, [event.id]);
      });
      const event = createEvent("user.created");
      expect((await webhooks.handle(post(event))).status).toBe(200);
      expect(await statusOf(await webhooks.handle(post(event)))).toEqual({
        status: 200,
        body: { received: true, duplicate: true },
      });
      expect(await rowsFor(event.id)).toBe(1);
      const record = await postgresStore({ client: pool, table }).get(event.id);
      expect(record).toMatchObject({
        status: "completed",
        deliveries: 2,
        type: "user.created",
        lastError: null,
      });
      expect(record?.body).toBe(signEvent(event, secret).body);
    });

    it.each(POSTGRES_JS_MAJORS)(
      "rolls the handler's writes back with the claim on a throw, logs the failure, and the retry runs again (postgres.js %i)",
      async (major) => {
        const store = postgresStore({ client: postgresJs[major], table, transactional: true });
        const webhooks = createWebhooks({ secret, store, logger: false });
        let attempt = 0;
        webhooks.on("user.deleted", async (event, { transaction }) => {
          await transaction`INSERT INTO ${transaction(app)} (event_id, note) VALUES (${event.id}, ${`attempt ${++attempt}`})`;
          if (attempt === 1) throw new Error("CRM down");
        });
        const event = createEvent("user.deleted");
        expect((await webhooks.handle(post(event))).status).toBe(500);
        expect(await rowsFor(event.id)).toBe(0);
        expect(await store.get(event.id)).toMatchObject({
          status: "failed",
          lastError: { code: "handler_failed", message: "Error: CRM down" },
        });
        expect((await webhooks.handle(post(event))).status).toBe(200);
        expect(await rowsFor(event.id)).toBe(1);
        expect(await store.get(event.id)).toMatchObject({ status: "completed", deliveries: 2 });
      },
    );

    it("answers a duplicate 409 at once while the transaction is open: it never waits on the row lock", async () => {
      const store = postgresStore({ client: pool, table, transactional: true });
      const webhooks = createWebhooks({ secret, store, logger: false });
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      webhooks.on("session.created", async (event, { transaction }) => {
        await transaction.query(`INSERT INTO "${app}" (event_id) VALUES ($1)`, [event.id]);
        entered();
        await held;
      });
      const event = createEvent("session.created");
      const first = webhooks.handle(post(event));
      await inside;
      // The order of events is the assertion: the duplicate is answered while the first is still held.
      const order: string[] = [];
      const duplicate = webhooks.handle(post(event)).then(async (response) => {
        order.push(`duplicate ${response.status} ${(await response.json()).error.code}`);
        return response;
      });
      const conflict = webhooks
        .handle(post({ ...event, data: { ...event.data, extra: 1 } }))
        .then((response) => {
          order.push(`other body ${response.status}`);
        });
      await Promise.all([duplicate, conflict]);
      order.push("first released");
      release();
      expect((await first).status).toBe(200);
      // Both answered (in either order) while the first was still held.
      expect(order.slice(0, 2).sort()).toEqual(["duplicate 409 event_in_progress", "other body 409"]);
      expect(order[2]).toBe("first released");
      expect((await duplicate).headers.get("retry-after")).toBe("30");
      // Committed now: the other body is a conflict, the same one a duplicate.
      expect((await webhooks.handle(post({ ...event, data: { ...event.data, extra: 1 } }))).status).toBe(422);
      expect((await webhooks.handle(post(event))).status).toBe(200);
      expect(await rowsFor(event.id)).toBe(1);
    });

    it.each(["pg", ...POSTGRES_JS_MAJORS.map(postgresJsName)])(
      "answers 500 handler_failed, not 503, when a handler swallowed a failed statement, and logs it (%s)",
      async (client) => {
        const store =
          client === "pg"
            ? postgresStore({ client: pool, table, transactional: true })
            : postgresStore({
                client: postgresJs[client === "postgres.js 3" ? 3 : 4],
                table,
                transactional: true,
              });
        const webhooks = createWebhooks({ secret, store, logger: false });
        let swallow = true;
        /** One statement through the handler's transaction, pg's or postgres.js's. */
        const run = (transaction: unknown, text: string, params: unknown[] = []) =>
          client === "pg"
            ? (transaction as pg.PoolClient).query(text, params)
            : (transaction as postgres.TransactionSql).unsafe(text, params as never[]);
        webhooks.on("user.updated", async (event, { transaction }) => {
          if (swallow) await run(transaction, "SELECT 1/0").catch(() => {}); // aborts the transaction
          await run(transaction, `INSERT INTO "${app}" (event_id) VALUES ($1)`, [event.id]).catch(() => {});
        });
        const event = createEvent("user.updated");
        const { status, body } = await statusOf(await webhooks.handle(post(event)));
        expect(status).toBe(500);
        expect(body.error.code).toBe("handler_failed");
        expect(await store.get(event.id)).toMatchObject({
          status: "failed",
          lastError: { code: "handler_failed", message: expect.stringContaining("SAVEPOINT") },
        });
        swallow = false;
        expect((await webhooks.handle(post(event))).status).toBe(200);
        expect(await rowsFor(event.id)).toBe(1);
      },
    );

    it("answers 500 handler_failed, not 503, when a handler rolled the transaction back and returned (postgres.js 4)", async () => {
      const store = postgresStore({ client: sql4, table, transactional: true });
      const webhooks = createWebhooks({ secret, store, logger: false });
      let rollback = true;
      webhooks.on("user.updated", async (event, { transaction }) => {
        await transaction`INSERT INTO ${transaction(app)} (event_id) VALUES (${event.id})`;
        if (rollback) await transaction.rollback();
      });
      const event = createEvent("user.updated");
      const { status, body } = await statusOf(await webhooks.handle(post(event)));
      expect(status).toBe(500);
      expect(body.error.code).toBe("handler_failed");
      expect(await rowsFor(event.id)).toBe(0);
      expect(await store.get(event.id)).toMatchObject({
        status: "failed",
        lastError: { code: "handler_failed", message: expect.stringContaining("sql.rollback()") },
      });
      rollback = false;
      expect((await webhooks.handle(post(event))).status).toBe(200);
      expect(await rowsFor(event.id)).toBe(1);
    });

    it("locks an event id per table: a transaction open on one table does not hold up another table's", async () => {
      const other = createTableName();
      await migrate(pool, { table: other });
      try {
        const first = createWebhooks({
          secret,
          store: postgresStore({ client: pool, table, transactional: true }),
          logger: false,
        });
        const second = createWebhooks({
          secret,
          store: postgresStore({ client: pool, table: other, transactional: true }),
          logger: false,
        });
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        let entered!: () => void;
        const inside = new Promise<void>((resolve) => {
          entered = resolve;
        });
        first.onAny(async () => {
          entered();
          await held;
        });
        const event = createEvent("organization.created");
        const pending = first.handle(post(event));
        await inside;
        expect((await second.handle(post(event))).status).toBe(200); // not 409: another table, another lock
        release();
        expect((await pending).status).toBe(200);
      } finally {
        await pool.query(`DROP TABLE IF EXISTS "${other}"`);
      }
    });

    it("types context.transaction for the client: PoolClient for pg, TransactionSql of its own major for postgres.js", () => {
      createWebhooks({ secret, store: postgresStore({ client: pool, table, transactional: true }) }).onAny(
        (_event, { transaction }) => {
          const client: pg.PoolClient = transaction;
          // @ts-expect-error it is the PoolClient, not any: a number does not take it
          const wrong: number = transaction;
          return [client, wrong];
        },
      );
      createWebhooks({
        secret,
        store: postgresStore({ client: postgresJs[3], table, transactional: true }),
      }).onAny((_event, { transaction }) => {
        const tx: postgres.TransactionSql = transaction;
        return tx;
      });
      createWebhooks({ secret, store: postgresStore({ client: sql4, table, transactional: true }) }).onAny(
        (_event, { transaction }) => {
          const tx: postgres4.TransactionSql = transaction;
          // @ts-expect-error 4.x's TransactionSql is not 3.x's: the handle is the client's own major's
          const other: postgres.TransactionSql = transaction;
          return [tx, other];
        },
      );
      createWebhooks({ secret, store: postgresStore({ client: pool, table }) }).onAny((_event, context) => {
        // @ts-expect-error a plain store has no transaction
        return context.transaction;
      });
    });
  });

  describe("the event log", () => {
    it("keeps a failed event with its error; replay after the fix completes it; a completed one is not re-run unless forced", async () => {
      const store = postgresStore({ client: pool, table });
      const webhooks = createWebhooks({ secret, store, logger: false });
      let broken = true;
      const runs: string[] = [];
      webhooks.on("member.added", (event) => {
        runs.push(event.id);
        if (broken) throw new TypeError("cannot read organization of undefined");
      });
      const event = createEvent("member.added");
      for (let i = 0; i < 3; i++) expect((await webhooks.handle(post(event))).status).toBe(500);
      expect(await store.get(event.id)).toMatchObject({
        status: "failed",
        deliveries: 3,
        lastError: { code: "handler_failed", message: "TypeError: cannot read organization of undefined" },
      });
      const failed = await store.list({ status: "failed", type: "member.added" });
      expect(failed.events.map((record) => record.id)).toContain(event.id);

      broken = false;
      expect(await store.replay(event.id, webhooks)).toEqual({ status: "processed" });
      expect(await store.get(event.id)).toMatchObject({ status: "completed" });
      expect(await store.replay(event.id, webhooks)).toEqual({ status: "duplicate" });
      expect(runs).toHaveLength(4);
      expect(await store.replay(event.id, webhooks, { force: true })).toEqual({ status: "processed" });
      expect(runs).toHaveLength(5);
      // The replayed event is the stored one, typed as delivered.
      expect(runs.every((id) => id === event.id)).toBe(true);
    });

    it("replays through a transactional store inside a transaction", async () => {
      const store = postgresStore({ client: pool, table, transactional: true });
      const webhooks = createWebhooks({ secret, store, logger: false });
      const seen: boolean[] = [];
      webhooks.on("api_key.created", async (_event, { transaction }) => {
        seen.push((await transaction.query("SELECT 1 AS one")).rows[0].one === 1);
        if (seen.length === 1) throw new Error("first time");
      });
      const event = createEvent("api_key.created");
      expect((await webhooks.handle(post(event))).status).toBe(500);
      expect(await store.replay(event.id, webhooks)).toEqual({ status: "processed" });
      expect(seen).toEqual([true, true]);
    });

    it.each(POSTGRES_JS_MAJORS)(
      "lists newest first, filtered, a page at a time with a cursor (postgres.js %i)",
      async (major) => {
        const sql = postgresJs[major];
        const listTable = createTableName();
        await migrate(sql, { table: listTable });
        try {
          const store = postgresStore({ client: sql, table: listTable });
          const webhooks = createWebhooks({ secret, store, logger: false });
          const ids: string[] = [];
          for (let i = 0; i < 7; i++) {
            const event = createEvent(i % 2 === 0 ? "user.created" : "user.deleted");
            ids.push(event.id);
            await webhooks.handle(post(event));
          }
          const seen: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await store.list({ limit: 3, cursor });
            expect(page.events.length).toBeLessThanOrEqual(3);
            seen.push(...page.events.map((record) => record.id));
            cursor = page.nextCursor;
          } while (cursor);
          expect(seen).toEqual([...ids].reverse());
          const created = await store.list({ type: "user.created" });
          expect(created.events.map((record) => record.id)).toEqual([ids[6], ids[4], ids[2], ids[0]]);
          expect((await store.list({ status: "failed" })).events).toEqual([]);
          await expect(store.list({ cursor: "nonsense" })).rejects.toMatchObject({
            code: "invalid_configuration",
          });
        } finally {
          await sql.unsafe(`DROP TABLE IF EXISTS "${listTable}"`);
        }
      },
    );

    it("keeps no body with keepPayload: false, and then refuses to replay", async () => {
      const store = postgresStore({ client: pool, table, keepPayload: false });
      const webhooks = createWebhooks({ secret, store, logger: false });
      const event = createEvent("2fa.enabled");
      await webhooks.handle(post(event));
      expect((await store.get(event.id))?.body).toBeNull();
      await expect(store.replay(event.id, webhooks)).rejects.toThrow(/keepPayload: false/);
    });

    it("prunes in bounded batches: completed events past retention and failed ones past failedRetentionMs", async () => {
      const pruneTable = createTableName();
      await migrate(pool, { table: pruneTable });
      try {
        const store = postgresStore({
          client: pool,
          table: pruneTable,
          retentionMs: 1,
          failedRetentionMs: 1,
        });
        for (let i = 0; i < 25; i++) {
          const claim = await store.claim(`evt_prune_${i}`, "h");
          if (claim.status !== "claimed") throw new Error("expected a claim");
          if (i % 5 === 0)
            await store.release(`evt_prune_${i}`, claim.token, { code: "handler_failed", message: "x" });
          else await store.complete(`evt_prune_${i}`, claim.token);
        }
        const live = await store.claim("evt_prune_live", "h"); // processing: never pruned
        expect(live.status).toBe("claimed");
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(await store.prune({ batchSize: 10, maxBatches: 1 })).toBe(10);
        expect(await store.prune({ batchSize: 10 })).toBe(15);
        const { rows } = await pool.query(`SELECT id, status FROM "${pruneTable}"`);
        expect(rows).toEqual([{ id: "evt_prune_live", status: "processing" }]);
      } finally {
        await pool.query(`DROP TABLE IF EXISTS "${pruneTable}"`);
      }
    });
  });

  describe("schema and configuration", () => {
    it("migrate is idempotent (pg, postgres.js 3 and 4), and schema.sql is its DDL for the default table", async () => {
      await migrate(pool, { table });
      for (const major of POSTGRES_JS_MAJORS) await migrate(postgresJs[major], { table });
      const shipped = readFileSync(new URL("../schema.sql", import.meta.url), "utf8");
      expect(shipped).toContain(schemaSql());
    });

    it("has the drizzle table's columns exactly as migrate creates them", async () => {
      const { rows } = await pool.query(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1",
        [table],
      );
      const fromDb = Object.fromEntries(
        rows.map((row) => [
          row.column_name,
          `${row.data_type} ${row.is_nullable === "NO" ? "not null" : "null"}`,
        ]),
      );
      const config = getTableConfig(optareWebhookEvents);
      const drizzleType: Record<string, string> = {
        PgText: "text",
        PgInteger: "integer",
        PgTimestamp: "timestamp with time zone",
      };
      const fromDrizzle = Object.fromEntries(
        config.columns.map((column) => [
          column.name,
          `${drizzleType[column.columnType]} ${column.notNull ? "not null" : "null"}`,
        ]),
      );
      expect(fromDrizzle).toEqual(fromDb);
      expect(config.name).toBe("optare_webhook_events");
      expect(config.indexes).toHaveLength(3);
    });

    it("says to run migrate when the table is missing, at check() and on the first request", async () => {
      const store = postgresStore({ client: pool, table: "optare_no_such_table" });
      await expect(store.check()).rejects.toMatchObject({
        code: "invalid_configuration",
        message: expect.stringMatching(/does not exist\. Run `await migrate\(client\)`/),
      });
      const errors: unknown[] = [];
      const webhooks = createWebhooks({
        secret,
        store,
        logger: { error: (f) => errors.push(f.err), warn: () => {} },
      });
      const { status, body } = await statusOf(await webhooks.handle(post(createEvent("user.created"))));
      expect(status).toBe(500);
      expect(body.error.code).toBe("invalid_configuration");
      expect(errors).toHaveLength(1);
    });

    it("refuses the wrong client, a transaction where a pool is needed, and a bad table name", async () => {
      expect(() => postgresStore({ client: {} as never })).toThrow(/Pool .* or a postgres\.js sql/);
      const single = new pg.Client({ connectionString: DATABASE_URL });
      expect(() => postgresStore({ client: single, transactional: true } as never)).toThrow(
        /transactional mode needs a pg Pool/,
      );
      expect(() => postgresStore({ client: single })).not.toThrow(); // one connection is fine without transactions
      expect(() => postgresStore({ client: pool, table: "events; DROP TABLE x" })).toThrow(
        /lower-case SQL name/,
      );
      expect(() => postgresStore({ client: pool, leaseMs: Number.NaN })).toThrow(/leaseMs must be/);
    });

    it.each(POSTGRES_JS_MAJORS)(
      "refuses a postgres.js transaction or reserved connection as the client (postgres.js %i)",
      async (major) => {
        const sql = postgresJs[major];
        // 4.x gives a transaction's sql a begin (for savepoints): refused all the same, in either mode.
        await sql.begin(async (tx) => {
          expect(() => postgresStore({ client: tx as never, transactional: true })).toThrow(
            /client is a postgres\.js transaction/,
          );
          expect(() => postgresStore({ client: tx as never })).toThrow(
            /client is a postgres\.js transaction/,
          );
        });
        const reserved = await sql.reserve();
        try {
          expect(() => postgresStore({ client: reserved as never })).toThrow(/reserved connection/);
        } finally {
          reserved.release();
        }
      },
    );

    it("answers 503, naming no host or port, when the database is unreachable", async () => {
      const unreachable = new pg.Pool({
        connectionString: "postgres://postgres@127.0.0.1:1/test",
        connectionTimeoutMillis: 500,
      });
      try {
        const webhooks = createWebhooks({
          secret,
          store: postgresStore({ client: unreachable }),
          logger: false,
        });
        const response = await webhooks.handle(post(createEvent("user.created")));
        expect(response.status).toBe(503);
        const text = await response.text();
        expect(JSON.parse(text).error.code).toBe("store_unavailable");
        expect(text).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|:1\b/);
      } finally {
        await unreachable.end();
      }
    });
  });
});

export type { WebhookEvent };
