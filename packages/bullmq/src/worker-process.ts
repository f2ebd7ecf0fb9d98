// A worker in an OS process of its own, for process.test.ts: `createWorker` with its default signal
// handling. Its handler records its start and end in Redis (a list named after the queue), so the test
// can see what ran where; it tells its parent once the worker is ready.
import { createRouter } from "@optare/webhooks";
import { Redis } from "ioredis";
import { createWorker } from "./worker";

const { QUEUE_NAME = "", HANDLER_MS = "1000", STALLED_MS = "30000" } = process.env;
const redis = new Redis({ host: "127.0.0.1", port: 6379 });

const router = createRouter().onAny(async (event) => {
  await redis.rpush(`${QUEUE_NAME}:log`, `start ${event.id}`);
  await new Promise((resolve) => setTimeout(resolve, Number(HANDLER_MS)));
  await redis.rpush(`${QUEUE_NAME}:log`, `end ${event.id}`);
});

const { worker } = createWorker(router, {
  connection: { host: "127.0.0.1", port: 6379 },
  name: QUEUE_NAME,
  stalledIntervalMs: Number(STALLED_MS),
});
await worker.waitUntilReady();
process.send?.("ready");
