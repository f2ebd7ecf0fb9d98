// Exactly-once effects in the worker: with the transactional Postgres store, a handler's writes through
// `context.transaction` commit with the event's completion, so a failed attempt leaves nothing behind and
// a job that runs twice (a stalled worker's job, a replay) writes once.
import { randomUUID } from "node:crypto";
import { createWebhooks, type TransactionalStore } from "@optare/webhooks";
import { migrate, postgresStore } from "@optare/webhooks-postgres";
import { DATABASE_URL, requireService } from "@optare/webhooks-testing/services";
import { Queue } from "bullmq";
import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";
import { bullmqQueue, type EventJobData } from "./queue";
import { checkRedis, connection, createEvent, createQueueName, obliterate, post, secret } from "./test-redis";
import { createWorker } from "./worker";

/** Whether PostgreSQL answers; see `requireService`. */
const checkPostgres = () => requireService("the @optare/webhooks-bullmq tests with PostgreSQL", DATABASE_URL);

const up = (await checkRedis()) && (await checkPostgres());

describe.runIf(up)("createWorker with the transactional Postgres store", () => {
  const suffix = randomUUID().replaceAll("-", "").slice(0, 12);
  const table = `optare_bullmq_events_${suffix}`;
  const appTable = `optare_bullmq_app_${suffix}`;
  const name = createQueueName("postgres");
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 5 });

  afterAll(async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}", "${appTable}"`);
    await pool.end();
    await obliterate(name);
  });

  it("leaves exactly one app row for a job whose handler throws once after writing, then succeeds", async () => {
    await migrate(pool, { table });
    // No unique constraint: a second write would show as a second row instead of failing.
    await pool.query(`CREATE TABLE "${appTable}" (event_id text NOT NULL, email text NOT NULL)`);
    const queue = bullmqQueue({ connection, name });
    // The web process's module: handlers typed for the transaction the worker's store gives them.
    const webhooks = createWebhooks<TransactionalStore<pg.PoolClient>>({ secret, queue, logger: false });
    let runs = 0;
    webhooks.on("user.created", async (event, { transaction }) => {
      runs++;
      await transaction.query(`INSERT INTO "${appTable}" (event_id, email) VALUES ($1, $2)`, [
        event.id,
        event.data.user.email,
      ]);
      if (runs === 1) throw new Error("the first run fails after its insert");
    });
    const store = postgresStore({ client: pool, table, transactional: true });
    const { close } = createWorker(webhooks, {
      connection,
      name,
      store,
      attempts: 3,
      backoffMs: 20,
      logger: false,
      handleSignals: false,
    });
    const jobs = new Queue<EventJobData, string>(name, { connection });
    try {
      const event = createEvent("user.created");
      expect((await webhooks.handle(post(event))).status).toBe(200);
      await vi.waitFor(async () => expect(await jobs.getJobState(event.id)).toBe("completed"), {
        timeout: 10_000,
      });
      expect(runs).toBe(2);
      const rows = await pool.query(`SELECT event_id FROM "${appTable}"`);
      expect(rows.rows).toEqual([{ event_id: event.id }]);
      expect(await store.get(event.id)).toMatchObject({ status: "completed" });

      // The same event run by the queue a second time (a stalled worker's job run again, or a job added
      // by hand): the store says it was processed, the handler does not run, nothing is written.
      const again = await jobs.getJob(event.id);
      await jobs.add("user.created", again!.data, { jobId: `${event.id}_again` });
      await vi.waitFor(async () => expect(await jobs.getJobState(`${event.id}_again`)).toBe("completed"), {
        timeout: 10_000,
      });
      expect((await jobs.getJob(`${event.id}_again`))?.returnvalue).toBe("duplicate");
      expect(runs).toBe(2);
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${appTable}"`)).rows).toEqual([{ n: 1 }]);
    } finally {
      await close();
      await Promise.all([queue.close(), jobs.close()]);
    }

    // Handlers typed for a transaction cannot be given a worker without the transactional store.
    const typeOnly = () =>
      // @ts-expect-error store: a TransactionalStore<PoolClient> is required
      createWorker(webhooks, { connection, name, handleSignals: false });
    void typeOnly;
  });
});
