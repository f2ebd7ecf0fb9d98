// Redis stopped mid-run: a redis-server of this test's own (another port, started and stopped by pid).
// While it is down the receiver answers 503 queue_unavailable promptly and nothing crashes; once it is
// back on the same port, deliveries are accepted again and the worker runs every event: none is lost.
//
// A Redis restarted without persistence comes back empty, losing the jobs it held: that would be a
// data-loss test of the server's configuration, not of this package. This server therefore writes every
// command to its append-only file before answering (--appendonly yes --appendfsync always, in a temporary
// --dir), as a production Redis holding a queue should, so the jobs survive the restart.
import { createWebhooks } from "@optare/webhooks";
import { Queue } from "bullmq";
import { afterAll, describe, expect, it, vi } from "vitest";
import { bullmqQueue } from "./queue";
import { answer, checkRedis, createEvent, post, secret, startOwnRedis } from "./test-redis";
import { createWorker } from "./worker";

const redisUp = await checkRedis(); // the redis-server binary is needed all the same

describe.runIf(redisUp)("Redis stopped mid-run", () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it("answers 503 while Redis is down, accepts again once it is back, and the worker loses nothing", async () => {
    const redis = await startOwnRedis({ durable: true });
    cleanups.push(() => redis.dispose());
    const connection = { host: "127.0.0.1", port: redis.port };
    const name = "optare-outage";
    const queue = bullmqQueue({ connection, name, enqueueTimeoutMs: 1_000 });
    const webhooks = createWebhooks({ secret, queue, logger: false });
    const jobs = new Queue(name, { connection });
    jobs.on("error", () => {});
    cleanups.push(
      () => queue.close(),
      () => jobs.close(),
    );

    const ran: string[] = [];
    let gate = () => {};
    const opened = new Promise<void>((resolve) => {
      gate = resolve;
    });
    webhooks.onAny(async (event) => {
      ran.push(event.id);
      if (event.event === "user.created") await opened; // batch A waits: its jobs are in Redis at the stop
    });
    const workerErrors: string[] = [];
    const worker = createWorker(webhooks, {
      connection,
      name,
      stalledIntervalMs: 1_000,
      handleSignals: false,
      logger: { error: (_, message) => workerErrors.push(message), warn: () => {} },
    });
    cleanups.push(() => worker.close());

    const batchA = Array.from({ length: 5 }, () => createEvent("user.created"));
    const batchB = Array.from({ length: 5 }, () => createEvent("session.created"));
    const batchC = Array.from({ length: 5 }, () => createEvent("member.added"));

    for (const event of batchA) expect((await webhooks.handle(post(event))).status).toBe(200);
    await vi.waitFor(() => expect(ran).toEqual([batchA[0]?.id]), { timeout: 5_000 });

    await redis.stop();
    for (const event of batchB) {
      const started = Date.now();
      const reply = await answer(await webhooks.handle(post(event)));
      expect(reply.status).toBe(503);
      // At once, not after enqueueTimeoutMs: the queue's connection keeps no offline queue.
      expect(reply.body).toEqual({
        error: { code: "queue_unavailable", message: "The event queue is unavailable." },
      });
      expect(Date.now() - started).toBeLessThan(1_000);
    }
    // The first job's handler ends while Redis is down: its completion cannot be recorded.
    gate();
    await new Promise((resolve) => setTimeout(resolve, 300));

    await redis.start();
    // The sender retries batch B; everything is accepted again once the queue has reconnected.
    for (const event of batchB) {
      await vi.waitFor(async () => expect((await webhooks.handle(post(event))).status).toBe(200), {
        timeout: 10_000,
        interval: 200,
      });
    }
    for (const event of batchC) expect((await webhooks.handle(post(event))).status).toBe(200);

    const all = [...batchA, ...batchB, ...batchC].map((event) => event.id);
    await vi.waitFor(async () => expect(await jobs.getCompletedCount()).toBe(all.length), {
      timeout: 15_000,
      interval: 200,
    });
    expect(await jobs.getFailedCount()).toBe(0);
    expect(new Set(ran)).toEqual(new Set(all));
    // At least once: only the job whose completion was lost in the outage may have run twice.
    expect(ran.length).toBeLessThanOrEqual(all.length + 1);
    console.info(
      `outage: ${ran.length} handler runs for ${all.length} events; worker errors logged:`,
      workerErrors,
    );
  }, 40_000);
});
