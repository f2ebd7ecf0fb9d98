import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { EVENT_TYPES } from "@optare/webhooks";
import { toEventId } from "@optare/webhooks-bullmq";
import { postgresStore } from "@optare/webhooks-postgres";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { answers } from "@optare/webhooks-testing/services";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  assertPackagesBuilt,
  build,
  describeDeliveries,
  poll,
  type RunningProcess,
  type RunningServer,
  startProcess,
  startServer,
} from "../../e2e-suite";

const cwd = fileURLToPath(new URL("..", import.meta.url));
const secret = "0123456789abcdef".repeat(4);
const DATABASE_URL = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";
const QUEUE_URL = process.env.OPTARE_QUEUE_URL || "redis://127.0.0.1:6379";

// The built app (tsup → dist/server.js, consuming the packages' dist) runs as a real server process.
beforeAll(() => {
  assertPackagesBuilt("webhooks", "express", "postgres", "bullmq");
  build(cwd);
}, 120_000);

describe("examples/express over real HTTP", () => {
  let server: RunningServer;
  beforeAll(async () => {
    // The in-memory mode, even where the caller's environment has a DATABASE_URL or an OPTARE_QUEUE_URL.
    server = await startServer(cwd, ["dist/server.js"], secret, {
      env: { DATABASE_URL: undefined, OPTARE_QUEUE_URL: undefined },
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("runs with the in-memory store", () => {
    expect(server.output()).toContain("Store: in memory");
  });
  describeDeliveries(() => server, secret);
});

/** The app table's event ids (all, or one), newest first. */
async function rowsOf(pool: pg.Pool, table: string, id?: string): Promise<string[]> {
  const { rows } = await pool.query<{ event_id: string }>(
    `SELECT event_id FROM "${table}" WHERE $1::text IS NULL OR event_id = $1::text ORDER BY processed_at DESC, event_id DESC`,
    [id ?? null],
  );
  return rows.map((row) => row.event_id);
}

// No PostgreSQL: under CI=true the suite runs and fails in its beforeAll; elsewhere it is skipped, loudly.
const postgresUp = await answers(DATABASE_URL);
const requirePostgres = process.env.CI === "true";
if (!postgresUp && !requirePostgres) {
  console.warn(
    `\n${"!".repeat(80)}\n!! SKIPPING the examples/express PostgreSQL e2e suite: no PostgreSQL answers at ${DATABASE_URL}.\n!! Start PostgreSQL on 127.0.0.1:5432 (trust auth, database test), or set DATABASE_URL.\n${"!".repeat(80)}\n`,
  );
}

const redisUp = await answers(QUEUE_URL);
const requireRedis = process.env.CI === "true";
if (!redisUp && !requireRedis) {
  console.warn(
    `\n${"!".repeat(80)}\n!! SKIPPING the examples/express queue-mode e2e suites: no Redis answers at ${new URL(QUEUE_URL).host}.\n!! Start redis-server on 127.0.0.1:6379, or set OPTARE_QUEUE_URL.\n${"!".repeat(80)}\n`,
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
    const rows = (id?: string) => rowsOf(pool, table, id);

    beforeAll(async () => {
      if (!postgresUp)
        throw new Error(`No PostgreSQL answers at ${DATABASE_URL}. CI=true requires it: start PostgreSQL.`);
      pool = new pg.Pool({ connectionString: DATABASE_URL, max: 4 });
      store = postgresStore({ client: pool, table: logTable });
      server = await startServer(cwd, ["dist/server.js"], secret, {
        env: {
          OPTARE_QUEUE_URL: undefined,
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

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Queue mode: a web process and a worker process, each `node dist/…` with the same environment, on a
 * queue, a key prefix and a list of processed ids of this run's own (removed at the end).
 */
function queueRun(extra: Record<string, string | undefined> = {}) {
  const suffix = randomUUID().replaceAll("-", "").slice(0, 12);
  const name = `example-${suffix}`;
  const prefix = `optare-e2e-${suffix}`;
  const env = {
    OPTARE_QUEUE_URL: QUEUE_URL,
    OPTARE_QUEUE_NAME: name,
    OPTARE_QUEUE_PREFIX: prefix,
    EVENTS_KEY: `${prefix}:processed`,
    DATABASE_URL: undefined,
    WORKER_CONCURRENCY: undefined,
    FAIL_ONCE_EVENT_TYPE: undefined,
    ...extra,
  };
  const run = {
    suffix,
    name,
    prefix,
    env,
    web: undefined as RunningServer | undefined,
    worker: undefined as RunningProcess | undefined,
    queue: undefined as Queue | undefined,
    redis: undefined as Redis | undefined,
    hook: () => `${run.web!.url}/webhooks/optare`,
    post: (delivery: { body: string; headers: Record<string, string> }) =>
      fetch(run.hook(), { method: "POST", ...delivery }),
    listed: async () => (await (await fetch(`${run.web!.url}/events`)).json()) as string[],
    async start() {
      if (!redisUp)
        throw new Error(
          `No Redis answers at ${new URL(QUEUE_URL).host}. CI=true requires it: start redis-server.`,
        );
      run.redis = new Redis(QUEUE_URL, { maxRetriesPerRequest: 3 });
      // The test's own view of the queue: job states, and the obliteration at the end.
      run.queue = new Queue(name, { connection: { url: QUEUE_URL }, prefix });
      run.queue.on("error", () => {});
      run.web = await startServer(cwd, ["dist/server.js"], secret, { env });
    },
    async startWorker() {
      run.worker = await startProcess(cwd, ["dist/worker.js"], secret, { env, ready: /Worker ready/ });
    },
    /** Waits until no job is waiting, active or delayed (the worker has run everything queued). */
    async drained() {
      const left = await poll(
        () => run.queue!.getJobCountByTypes("waiting", "active", "delayed", "prioritized"),
        (count) => count === 0,
      );
      expect(left).toBe(0);
    },
    printOnFailure(failed: boolean) {
      if (!failed) return;
      console.error(`web output:\n${run.web?.output()}\nworker output:\n${run.worker?.output()}`);
    },
    async stop() {
      await Promise.all([run.worker?.stop(), run.web?.stop()]);
      if (run.queue) {
        await run.queue.obliterate({ force: true });
        await run.queue.close();
      }
      if (run.redis) {
        // Anything left under the run's prefix (the list of processed ids).
        const keys = await run.redis.keys(`${prefix}:*`);
        if (keys.length > 0) await run.redis.del(...keys);
        await run.redis.quit();
      }
    },
  };
  return run;
}

describe.skipIf(!redisUp && !requireRedis)(
  "examples/express with OPTARE_QUEUE_URL (web process and `npm run worker`, BullMQ)",
  () => {
    const run = queueRun();
    beforeAll(() => run.start(), 60_000);
    afterEach(({ task }) => run.printOnFailure(task.result?.state === "fail"));
    afterAll(() => run.stop(), 30_000);

    it("only enqueues in the web process: nothing is processed until the worker process runs", async () => {
      expect(run.web!.output()).toContain(`Queue mode: events go to queue ${run.name}`);
      const event = createEvent("user.created");
      const answer = await run.post(signEvent(event, secret));
      expect([answer.status, await answer.json()]).toEqual([200, { received: true, queued: true }]);
      expect(await run.queue!.getJobState(event.id)).toBe("waiting");
      await sleep(500);
      expect(await run.listed()).toEqual([]);
      expect(await run.queue!.getJobState(event.id)).toBe("waiting");

      await run.startWorker();
      expect(await poll(run.listed, (ids) => ids.length > 0)).toEqual([event.id]);
      expect(await run.queue!.getJobState(event.id)).toBe("completed");
      // The handler registered by the shared module ran in the worker, never in the web process.
      expect(run.worker!.output()).toContain("welcome john@example.com");
      expect(run.web!.output()).not.toContain("welcome");
    });

    describeDeliveries(() => run.web!, secret, { queued: true });

    it("answers 200 duplicate to a redelivery, which the worker does not process again", async () => {
      const event = createEvent("session.revoked");
      const delivery = signEvent(event, secret);
      const first = await run.post(delivery);
      expect([first.status, await first.json()]).toEqual([200, { received: true, queued: true }]);
      await poll(run.listed, (ids) => ids.includes(event.id));
      const again = await run.post(delivery);
      expect([again.status, await again.json()]).toEqual([200, { received: true, duplicate: true }]);
      // Give a second run every chance to happen, then count.
      await run.drained();
      await sleep(300);
      const ids = await run.listed();
      expect(ids.filter((id) => id === event.id)).toHaveLength(1);
      expect(run.worker!.output().split(`processed ${event.id} `)).toHaveLength(2);
      const job = await run.queue!.getJob(event.id);
      expect([job?.attemptsMade, job?.returnvalue]).toEqual([1, "processed"]);
    });

    it("lists every processed id once, newest first, from the Redis list every process reads", async () => {
      await run.drained();
      const ids = await run.listed();
      expect(new Set(ids).size).toBe(ids.length);
      expect(await run.redis!.lrange(run.env.EVENTS_KEY, 0, -1)).toEqual(ids);
      // Everything completed is listed (the conformance kit's deliveries included).
      const completed = await run.queue!.getCompleted(0, -1);
      expect(completed.length).toBeGreaterThan(0);
      expect([...ids].sort()).toEqual(completed.map((job) => toEventId(job.id!)).sort());
    });

    it("shows the queue in bull-board at /admin/queues", async () => {
      const page = await fetch(`${run.web!.url}/admin/queues`);
      expect([page.status, page.headers.get("content-type")]).toEqual([200, "text/html; charset=utf-8"]);
      expect(await page.text()).toContain("<html");
      const api = await fetch(`${run.web!.url}/admin/queues/api/queues`);
      expect(api.status).toBe(200);
      const { queues } = (await api.json()) as {
        queues: { name: string; counts: Record<string, number> }[];
      };
      expect(queues.map((queue) => queue.name)).toEqual([run.name]);
      expect(queues[0]!.counts.completed).toBeGreaterThan(0);
    });
  },
);

describe.skipIf((!redisUp || !postgresUp) && !requireRedis)(
  "examples/express with OPTARE_QUEUE_URL and DATABASE_URL (the worker on the transactional PostgreSQL store)",
  () => {
    const failOnceType = "example.fail_once";
    const run = queueRun({ DATABASE_URL, FAIL_ONCE_EVENT_TYPE: failOnceType });
    const table = `example_events_${run.suffix}`;
    const logTable = `example_log_${run.suffix}`;
    Object.assign(run.env, { EVENTS_TABLE: table, WEBHOOK_LOG_TABLE: logTable });
    let pool: pg.Pool;
    let store: ReturnType<typeof postgresStore>;
    const rows = (id?: string) => rowsOf(pool, table, id);

    beforeAll(async () => {
      if (!postgresUp)
        throw new Error(`No PostgreSQL answers at ${DATABASE_URL}. CI=true requires it: start PostgreSQL.`);
      pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
      store = postgresStore({ client: pool, table: logTable });
      await run.start();
      await run.startWorker();
    }, 60_000);
    afterEach(({ task }) => run.printOnFailure(task.result?.state === "fail"));
    afterAll(async () => {
      await run.stop();
      if (pool) {
        await pool.query(`DROP TABLE IF EXISTS "${table}", "${logTable}"`);
        await pool.end();
      }
    }, 30_000);

    it("runs the web process on the queue and the worker on PostgreSQL", () => {
      expect(run.web!.output()).toContain(`Processed events in table ${table} (PostgreSQL)`);
      expect(run.worker!.output()).toContain(
        `Worker store: PostgreSQL, transactional; processed events in table ${table}`,
      );
    });

    describeDeliveries(() => run.web!, secret, { queued: true });

    it("rolls back the row of a job whose handler throws after its INSERT; BullMQ's retry adds exactly one", async () => {
      const event = { ...createEvent("user.created"), event: failOnceType };
      const answer = await run.post(signEvent(event, secret));
      expect([answer.status, await answer.json()]).toEqual([200, { received: true, queued: true }]);
      // The first attempt fails (its INSERT rolled back); the retry, 1 s later, commits the row.
      await poll(run.listed, (ids) => ids.includes(event.id));
      expect(await rows(event.id)).toEqual([event.id]);
      const job = await run.queue!.getJob(event.id);
      expect([job?.attemptsMade, job?.returnvalue]).toEqual([2, "processed"]);
      expect(run.worker!.output()).toContain(`${event.id} (${failOnceType}) fails its first attempt`);
      expect(await store.get(event.id)).toMatchObject({ status: "completed" });
    });

    it("adds no row for a duplicate delivery", async () => {
      const event = createEvent("organization.updated");
      const delivery = signEvent(event, secret);
      expect((await run.post(delivery)).status).toBe(200);
      await poll(run.listed, (ids) => ids.includes(event.id));
      const again = await run.post(delivery);
      expect([again.status, await again.json()]).toEqual([200, { received: true, duplicate: true }]);
      await run.drained();
      await sleep(300);
      expect(await rows(event.id)).toEqual([event.id]);
    });

    it("lists at GET /events exactly the ids of the app table, one row per completed event", async () => {
      await run.drained();
      const inTable = await rows();
      expect(inTable.length).toBeGreaterThan(EVENT_TYPES.length);
      expect(await run.listed()).toEqual(inTable);
      const { rows: completed } = await pool.query<{ id: string }>(
        `SELECT id FROM "${logTable}" WHERE status = 'completed'`,
      );
      expect([...inTable].sort()).toEqual(completed.map((row) => row.id).sort());
    });
  },
);
