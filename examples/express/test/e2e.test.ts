import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";
import { postgresStore } from "@optare/webhooks-postgres";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  assertPackagesBuilt,
  build,
  describeDeliveries,
  type RunningServer,
  startServer,
} from "../../e2e-suite";

const cwd = fileURLToPath(new URL("..", import.meta.url));
const secret = "0123456789abcdef".repeat(4);
const DATABASE_URL = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

// The built app (tsup → dist/server.js, consuming the packages' dist) runs as a real server process.
beforeAll(() => {
  assertPackagesBuilt("webhooks", "express", "postgres");
  build(cwd);
}, 120_000);

describe("examples/express over real HTTP", () => {
  let server: RunningServer;
  beforeAll(async () => {
    // The in-memory mode, even where the caller's environment has a DATABASE_URL.
    server = await startServer(cwd, ["dist/server.js"], secret, { env: { DATABASE_URL: undefined } });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("runs with the in-memory store", () => {
    expect(server.output()).toContain("Store: in memory");
  });
  describeDeliveries(() => server, secret);
});

/** Whether PostgreSQL answers at DATABASE_URL (a TCP connect, 1 s at most). */
function listening(): Promise<boolean> {
  const { hostname, port } = new URL(DATABASE_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 5432) });
    const finish = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on("error", () => finish(false));
    socket.on("connect", () => finish(true));
  });
}

// No PostgreSQL: under CI=true the suite runs and fails in its beforeAll; elsewhere it is skipped, loudly.
const postgresUp = await listening();
const requirePostgres = process.env.CI === "true";
if (!postgresUp && !requirePostgres) {
  console.warn(
    `\n${"!".repeat(80)}\n!! SKIPPING the examples/express PostgreSQL e2e suite: no PostgreSQL answers at ${DATABASE_URL}.\n!! Start PostgreSQL on 127.0.0.1:5432 (trust auth, database test), or set DATABASE_URL.\n${"!".repeat(80)}\n`,
  );
}

describe.skipIf(!postgresUp && !requirePostgres)(
  "examples/express with DATABASE_URL (PostgreSQL, transactional)",
  () => {
    // Tables of this run's own, dropped at the end.
    const suffix = randomUUID().replaceAll("-", "").slice(0, 16);
    const table = `example_events_${suffix}`;
    const logTable = `example_log_${suffix}`;
    // The server's handler throws after its INSERT on the first attempt of events of this type.
    const failOnceType = "example.fail_once";
    let server: RunningServer;
    let pool: pg.Pool;
    let store: ReturnType<typeof postgresStore>;

    const hook = () => `${server.url}/webhooks/optare`;
    const post = (delivery: { body: string; headers: Record<string, string> }) =>
      fetch(hook(), { method: "POST", ...delivery });
    const listed = async () => (await (await fetch(`${server.url}/events`)).json()) as string[];
    const rows = async (id?: string) =>
      (
        await pool.query<{ event_id: string }>(
          `SELECT event_id FROM "${table}" WHERE $1::text IS NULL OR event_id = $1::text ORDER BY processed_at DESC, event_id DESC`,
          [id ?? null],
        )
      ).rows.map((row) => row.event_id);

    beforeAll(async () => {
      if (!postgresUp)
        throw new Error(`No PostgreSQL answers at ${DATABASE_URL}. CI=true requires it: start PostgreSQL.`);
      pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
      store = postgresStore({ client: pool, table: logTable });
      server = await startServer(cwd, ["dist/server.js"], secret, {
        env: {
          DATABASE_URL,
          EVENTS_TABLE: table,
          WEBHOOK_LOG_TABLE: logTable,
          FAIL_ONCE_EVENT_TYPE: failOnceType,
        },
      });
    }, 60_000);
    afterEach(({ task }) => {
      if (task.result?.state === "fail") console.error(`server output:\n${server?.output()}`);
    });
    afterAll(async () => {
      await server?.stop();
      if (pool) {
        await pool.query(`DROP TABLE IF EXISTS "${table}", "${logTable}"`);
        await pool.end();
      }
    });

    it("runs on PostgreSQL: its start-up created both tables", async () => {
      expect(server.output()).toContain("Store: PostgreSQL");
      const { rows: tables } = await pool.query<{ name: string }>(
        "SELECT to_regclass($1)::text AS name UNION ALL SELECT to_regclass($2)::text",
        [table, logTable],
      );
      expect(tables.map((row) => row.name)).toEqual([table, logTable]);
    });

    describeDeliveries(() => server, secret);

    it("lists at GET /events exactly the ids in the app table, one row per completed event", async () => {
      const inTable = await rows();
      expect(inTable.length).toBeGreaterThan(0);
      expect(await listed()).toEqual(inTable);
      // Exactly once: every event the log calls completed has one row, and nothing else has one.
      const { rows: completed } = await pool.query<{ id: string }>(
        `SELECT id FROM "${logTable}" WHERE status = 'completed'`,
      );
      expect([...inTable].sort()).toEqual(completed.map((row) => row.id).sort());
    });

    it("adds no row for a duplicate delivery", async () => {
      const event = createEvent("organization.updated");
      const delivery = signEvent(event, secret);
      const count = (await rows()).length;
      expect((await post(delivery)).status).toBe(200);
      const again = await post(delivery);
      expect([again.status, await again.json()]).toEqual([200, { received: true, duplicate: true }]);
      expect(await rows(event.id)).toEqual([event.id]);
      expect((await rows()).length).toBe(count + 1);
      expect(await store.get(event.id)).toMatchObject({ status: "completed", deliveries: 2 });
    });

    it("answers 409 at once to a duplicate while the first delivery's transaction is open", async () => {
      const event = createEvent("member.removed");
      const delivery = signEvent(event, secret);
      // Hold the app table in SHARE mode: the handler's INSERT waits, inside the event's transaction.
      const locker = await pool.connect();
      let first: Promise<Response> | undefined;
      try {
        await locker.query("BEGIN");
        await locker.query(`LOCK TABLE "${table}" IN SHARE MODE`);
        first = post(delivery);
        const waiting = async () =>
          (await pool.query(`SELECT 1 FROM pg_locks WHERE relation = $1::regclass AND NOT granted`, [table]))
            .rows.length > 0;
        const deadline = Date.now() + 10_000;
        while (!(await waiting())) {
          if (Date.now() > deadline) throw new Error("the first delivery's INSERT never waited on the lock");
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const started = Date.now();
        const second = await post(delivery);
        expect([second.status, ((await second.json()) as { error: { code: string } }).error.code]).toEqual([
          409,
          "event_in_progress",
        ]);
        expect(Date.now() - started).toBeLessThan(2_000);
      } finally {
        await locker.query("COMMIT").catch(() => {});
        locker.release();
      }
      const answer = await first!;
      expect([answer.status, await answer.json()]).toEqual([200, { received: true }]);
      expect(await rows(event.id)).toEqual([event.id]);
    });

    it("rolls back a failing handler's row, logs the event as failed, and the retry adds exactly one row", async () => {
      const event = createEvent("user.updated");
      const delivery = signEvent(event, secret);
      const constraint = `fail_${suffix}`;
      // The handler's INSERT of this one event violates a CHECK: it throws inside the event's transaction.
      await pool.query(
        `ALTER TABLE "${table}" ADD CONSTRAINT "${constraint}" CHECK (event_id <> '${event.id.replaceAll("'", "''")}')`,
      );
      let failed: Response;
      try {
        failed = await post(delivery);
      } finally {
        await pool.query(`ALTER TABLE "${table}" DROP CONSTRAINT IF EXISTS "${constraint}"`);
      }
      expect([failed.status, ((await failed.json()) as { error: { code: string } }).error.code]).toEqual([
        500,
        "handler_failed",
      ]);
      expect(await rows(event.id)).toEqual([]);
      const record = await store.get(event.id);
      expect(record).toMatchObject({
        status: "failed",
        type: "user.updated",
        lastError: { code: "handler_failed" },
      });
      expect(record?.lastError?.message).toContain(constraint);
      expect((await store.list({ status: "failed" })).events.map((e) => e.id)).toContain(event.id);

      // Optare's retry: the same signed delivery again.
      const retried = await post(delivery);
      expect([retried.status, await retried.json()]).toEqual([200, { received: true }]);
      expect(await rows(event.id)).toEqual([event.id]);
      expect(await store.get(event.id)).toMatchObject({ status: "completed", deliveries: 2 });
      expect((await listed())[0]).toBe(event.id);

      // And once completed, it stays one row.
      const again = await post(delivery);
      expect([again.status, await again.json()]).toEqual([200, { received: true, duplicate: true }]);
      expect(await rows(event.id)).toEqual([event.id]);
    });

    it("rolls back the row of a handler that throws after its INSERT; the retry adds exactly one", async () => {
      const event = { ...createEvent("user.created"), event: failOnceType };
      const delivery = signEvent(event, secret);
      const failed = await post(delivery);
      expect([failed.status, ((await failed.json()) as { error: { code: string } }).error.code]).toEqual([
        500,
        "handler_failed",
      ]);
      expect(await rows(event.id)).toEqual([]);
      const record = await store.get(event.id);
      expect(record).toMatchObject({ status: "failed", type: failOnceType, deliveries: 1 });
      expect(record?.lastError?.message).toContain("fails its first attempt, after its INSERT");

      const retried = await post(delivery);
      expect([retried.status, await retried.json()]).toEqual([200, { received: true }]);
      expect(await rows(event.id)).toEqual([event.id]);
      expect(await store.get(event.id)).toMatchObject({
        status: "completed",
        deliveries: 2,
      });
      expect((await listed())[0]).toBe(event.id);
    });

    it("lists at GET /events, at the end, exactly the ids of the app table", async () => {
      expect(await listed()).toEqual(await rows());
    });
  },
);
