// The producer side of queue mode (SPEC §8.3): `bullmqQueue()` is the `EventQueue` a receiver hands each
// verified event to. One BullMQ job per event id; the job's data keeps the raw body for the worker.
import { createToken, type EventQueue, WebhookError, type WebhookEvent } from "@optare/webhooks";
import { type ConnectionOptions, Queue } from "bullmq";
import { toJobId } from "./job-id";
import { configError, isPlainOptions, positiveInteger, queueName } from "./options";

/**
 * Finished jobs are kept at least this long, so a duplicate stays a duplicate: the receiver's `maxEventAge`
 * (24 h) plus its allowed clock skew (5 min) and a margin.
 */
export const DEFAULT_QUEUE_RETENTION_MS = 25 * 60 * 60 * 1000;
/** Dead letters (failed jobs) are kept 30 days, then removed as later jobs fail. */
export const DEFAULT_FAILED_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
export const DEFAULT_ENQUEUE_TIMEOUT_MS = 5_000;

/** What a job holds: the verified raw body and what the queue needs to tell a duplicate from a conflict. */
export interface EventJobData {
  /** The random token of the delivery that created the job: how `enqueue` knows it won. */
  token: string;
  /** The receiver's hash of the raw body: the same id with another hash is a conflict (422). */
  bodyHash: string;
  /** The event type (also the job's name). */
  type: string;
  /** When the receiver queued it (ISO-8601). */
  receivedAt: string;
  /** The raw body exactly as verified (UTF-8 text), parsed again by the worker. */
  body: string;
}

export type EventJobQueue = Queue<EventJobData, string, string>;

export interface BullmqQueueOptions {
  /**
   * How to reach Redis: connection options (`{ host, port }`, `{ url }`) or a client, as BullMQ's `Queue`
   * takes them. With options, the queue's connection keeps no offline queue (a delivery made while Redis
   * is down is answered 503 at once) and reconnects every 2 s at most; your own options take precedence.
   */
  connection?: ConnectionOptions;
  /** Or a BullMQ `Queue` of yours (its name and prefix apply; `close()` leaves it open). */
  queue?: Queue;
  /** The queue name. Default `"optare-webhooks"`; the worker must use the same. */
  name?: string;
  /** BullMQ's key prefix (default `"bull"`); the worker must use the same. */
  prefix?: string;
  /**
   * How long a finished job (and so its event id) is kept, in ms: at least the receiver's `maxEventAge`.
   * Default 25 h.
   */
  retentionMs?: number;
  /** How long a dead letter (a job that failed every attempt) is kept, in ms. Default 30 days. */
  failedRetentionMs?: number;
  /** An enqueue Redis has not completed by then is answered 503 `queue_unavailable`. Default 5 s. */
  enqueueTimeoutMs?: number;
}

/** The `EventQueue` for `createWebhooks({ queue })`, with the BullMQ queue behind it. */
export interface BullmqEventQueue extends EventQueue {
  readonly name: string;
  /** The BullMQ queue (created on first use), e.g. to mount it in bull-board. */
  readonly queue: EventJobQueue;
  /** Closes the queue's connection when this created it. */
  close(): Promise<void>;
}

/**
 * What a receiver needs of its connection (defaults under the user's own options): no offline queue, so a
 * delivery arriving while Redis is down is answered 503 at once instead of waiting in memory; and
 * reconnection every 2 s at most (BullMQ's default backs off to 20 s), so deliveries are accepted again
 * soon after Redis is back.
 */
const PRODUCER_CONNECTION = {
  enableOfflineQueue: false,
  retryStrategy: (times: number) => Math.min(times * 250, 2_000),
};

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function unavailable(cause: unknown): WebhookError {
  return WebhookError.is(cause)
    ? cause
    : new WebhookError("queue_unavailable", "The event queue is unavailable.", { cause });
}

/** `work`, or `queue_unavailable` when it has not settled within `ms` (it is left to finish). */
function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new WebhookError("queue_unavailable", `The event queue did not answer within ${ms} ms.`, {
          cause: new Error(`enqueue timed out after ${ms} ms`),
        }),
      );
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(unavailable(error));
      },
    );
  });
}

/**
 * An event queue on BullMQ for queue mode: `createWebhooks({ secret, queue: bullmqQueue({ connection }) })`
 * answers 200 `{"received":true,"queued":true}` as soon as Redis holds the event's job, and a worker
 * (`createWorker`) runs the handlers. The job id is the event id, so a redelivery is a duplicate.
 */
export function bullmqQueue(options: BullmqQueueOptions): BullmqEventQueue {
  const where = "bullmqQueue";
  if (typeof options !== "object" || options === null) {
    throw configError(where, "pass { connection } (or { queue }).");
  }
  const given = options.queue;
  if ((given === undefined) === (options.connection === undefined)) {
    throw configError(where, "pass exactly one of connection (Redis options or client) and queue.");
  }
  if (given !== undefined && (options.name !== undefined || options.prefix !== undefined)) {
    throw configError(where, "name and prefix come from the queue you pass; leave them out.");
  }
  const name = given?.name ?? queueName(where, options.name);
  const retentionMs = positiveInteger(where, "retentionMs", options.retentionMs, DEFAULT_QUEUE_RETENTION_MS, {
    min: 1000,
  });
  const failedRetentionMs = positiveInteger(
    where,
    "failedRetentionMs",
    options.failedRetentionMs,
    DEFAULT_FAILED_RETENTION_MS,
    { min: retentionMs },
  );
  const timeoutMs = positiveInteger(
    where,
    "enqueueTimeoutMs",
    options.enqueueTimeoutMs,
    DEFAULT_ENQUEUE_TIMEOUT_MS,
  );
  // BullMQ counts `age` in seconds, from when the job finished; removal happens lazily, when later jobs
  // finish, so jobs are kept at least this long.
  const jobOptions = {
    removeOnComplete: { age: Math.ceil(retentionMs / 1000) },
    removeOnFail: { age: Math.ceil(failedRetentionMs / 1000) },
  };

  let created: EventJobQueue | undefined;
  function queue(): EventJobQueue {
    if (given !== undefined) return given as EventJobQueue;
    if (created === undefined) {
      const connection = options.connection!;
      created = new Queue<EventJobData, string, string>(name, {
        connection: isPlainOptions(connection) ? { ...PRODUCER_CONNECTION, ...connection } : connection,
        ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
      });
      // Connection errors reach the receiver as rejected enqueues (503, logged there); without a listener
      // BullMQ would print each reconnect attempt.
      created.on("error", () => {});
    }
    return created;
  }

  /**
   * Adds the job, then reads back the token stored under its id: BullMQ's add is atomic and keeps the
   * first job of an id, so of many concurrent deliveries exactly one finds its own token ("queued").
   */
  async function add(jobId: string, data: EventJobData): Promise<"queued" | "duplicate" | "conflict"> {
    const jobs = queue();
    for (let attempt = 1; ; attempt++) {
      await jobs.add(data.type, data, { jobId, ...jobOptions });
      const stored = await jobs.getJob(jobId);
      if (stored !== undefined) {
        const held = stored.data as Partial<EventJobData> | undefined;
        if (held?.token === data.token) return "queued";
        return held?.bodyHash === data.bodyHash ? "duplicate" : "conflict";
      }
      // Removed between the add and the read (an obliterate, a manual removal): add it again.
      if (attempt === 3) throw new Error(`job ${jobId} disappeared right after it was added`);
    }
  }

  return {
    name,
    retentionMs,
    get queue() {
      return queue();
    },
    async enqueue(event: WebhookEvent, body: Uint8Array | string, bodyHash: string) {
      const data: EventJobData = {
        token: createToken(),
        bodyHash,
        type: event.event,
        receivedAt: new Date().toISOString(),
        // The receiver decoded these bytes the same way (fatal UTF-8, BOM kept): the text round-trips.
        body: typeof body === "string" ? body : decoder.decode(body),
      };
      return bounded(add(toJobId(event.id), data), timeoutMs);
    },
    async close() {
      await created?.close();
    },
  };
}
