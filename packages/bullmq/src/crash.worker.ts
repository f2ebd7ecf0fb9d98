// One worker process for crash.test.ts: `createWorker` on the queue the receiver processes fill, sharing
// one Redis with its sibling worker. Its handler records each run in Redis at its START, atomically with
// the run's number (a per-event counter, in a script): `start <event id> <pid> <run> <ms>`; then takes a few ms,
// throws on the first run of the events the test picked (a hash of the id: 20 %), else records `end`.
// BullMQ's "completed" and "failed" events add `done` / `failed` records: Redis holds that run's outcome.
// It tells the test (IPC) when it is ready, each handler start, each stalled job it takes back, and
// any failure it did not expect. Told `{ killAtInFlight: n }`, it SIGKILLs itself right after the start
// record of its next handler run with at least n handlers running: a kill mid-handler for certain, which
// a kill sent by the (busy) test process on an IPC message could not promise.
import { createHash } from "node:crypto";
import { createRouter } from "@optare/webhooks";
import { Redis } from "ioredis";
import { toEventId } from "./job-id";
import { createWorker } from "./worker";

const {
  QUEUE_NAME = "",
  LOG_KEY = "",
  RUNS_KEY = "",
  CONCURRENCY = "8",
  STALLED_MS = "2000",
  BACKOFF_MS = "50",
  HANDLER_MIN_MS = "3",
  HANDLER_MAX_MS = "8",
} = process.env;
const FAILURE = "first run fails on purpose";
const pid = process.pid;
const redis = new Redis({ host: "127.0.0.1", port: 6379 });

/** The run's number for this event (1 for its first run anywhere), and the `start` record, at once. */
const START = `local run = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('RPUSH', KEYS[2], 'start ' .. ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. run .. ' ' .. ARGV[3])
return run`;

/** The events whose first run throws: 20 %, from the id alone (the test applies the same rule). */
function throwsFirst(eventId: string): boolean {
  return createHash("sha256").update(eventId).digest().readUInt16BE(0) % 5 === 0;
}

/** The run number of each event's current (or last) run in this process, for the done/failed records. */
const runs = new Map<string, number>();
let inFlight = 0;
let killAtInFlight = Number.POSITIVE_INFINITY;
process.on("message", (message: { killAtInFlight?: number }) => {
  if (message.killAtInFlight !== undefined) killAtInFlight = message.killAtInFlight;
});
const min = Number(HANDLER_MIN_MS);
const spread = Number(HANDLER_MAX_MS) - min;

const router = createRouter().onAny(async (event) => {
  const run = Number(await redis.eval(START, 2, RUNS_KEY, LOG_KEY, event.id, pid, Date.now()));
  runs.set(event.id, run);
  inFlight++;
  if (inFlight >= killAtInFlight) process.kill(pid, "SIGKILL");
  process.send?.({ started: event.id, inFlight });
  try {
    await new Promise((resolve) => setTimeout(resolve, min + Math.random() * spread));
    if (run === 1 && throwsFirst(event.id)) {
      await redis.rpush(LOG_KEY, `throw ${event.id} ${pid} ${run}`);
      throw new Error(FAILURE);
    }
    await redis.rpush(LOG_KEY, `end ${event.id} ${pid} ${run}`);
  } finally {
    inFlight--;
  }
});

const { worker } = createWorker(router, {
  connection: { host: "127.0.0.1", port: 6379 },
  name: QUEUE_NAME,
  concurrency: Number(CONCURRENCY),
  backoffMs: Number(BACKOFF_MS),
  stalledIntervalMs: Number(STALLED_MS),
  logger: {
    error: (_fields, message) => {
      if (!message.includes(FAILURE)) process.send?.({ error: message });
    },
    warn: (fields, message) => {
      if (message.includes("it runs again")) process.send?.({ stalled: fields.eventId });
      else process.send?.({ error: `warning: ${message}` });
    },
  },
});

const settled = (outcome: "done" | "failed", jobId: string | undefined) => {
  if (jobId === undefined) return;
  const eventId = toEventId(jobId);
  void redis.rpush(LOG_KEY, `${outcome} ${eventId} ${pid} ${runs.get(eventId) ?? 0}`);
};
worker.on("completed", (job) => settled("done", job.id));
worker.on("failed", (job) => settled("failed", job?.id));

await worker.waitUntilReady();
process.send?.({ ready: pid });
