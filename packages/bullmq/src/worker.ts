// The consumer side of queue mode (SPEC §8.3): a BullMQ worker that runs the router's handlers on each
// queued event under the store's claim rules (`processEvent`, as the receiver does), retries failures
// with exponential backoff, and keeps what failed every attempt as a dead letter to list and replay.
import {
  consoleLogger,
  type HandlerContext,
  type IdempotencyStore,
  type Logger,
  type Router,
  type TransactionalStore,
} from "@optare/webhooks";
import { type ConnectionOptions, Queue, Worker } from "bullmq";
import { type DeadLetters, deadLetters } from "./dead-letters";
import { toEventId } from "./job-id";
import { configError, positiveInteger, queueName } from "./options";
import type { EventJobData, EventJobQueue } from "./queue";
import { createJobRunner } from "./run-job";
import { exitOnSignals } from "./shutdown";

export const DEFAULT_ATTEMPTS = 5;
export const DEFAULT_BACKOFF_MS = 1_000;
/** BullMQ's own default lock duration and stalled-job check interval. */
export const DEFAULT_STALLED_INTERVAL_MS = 30_000;
/** Kubernetes waits 30 s between SIGTERM and SIGKILL by default. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 25_000;

interface BaseWorkerOptions {
  /**
   * How to reach Redis: connection options (`{ host, port }`, `{ url }`), or an ioredis client created
   * with `maxRetriesPerRequest: null` (BullMQ requires it for workers).
   */
  connection: ConnectionOptions;
  /** The queue name given to `bullmqQueue()`. Default `"optare-webhooks"`. */
  name?: string;
  /** BullMQ's key prefix, as given to `bullmqQueue()`. Default `"bull"`. */
  prefix?: string;
  /** How many jobs this worker runs at once. Default 1. */
  concurrency?: number;
  /** Runs of a job before it becomes a dead letter (the first included). Default 5. */
  attempts?: number;
  /** The first retry's delay, doubled for each next one (1 s, 2 s, 4 s, 8 s). Default 1 s. */
  backoffMs?: number;
  /**
   * Where failures go: the core's `consoleLogger` by default (`[optare-webhooks] …` on stderr, with the
   * handler's stack), a pino-style logger, or `false`.
   */
  logger?: Logger | false;
  /**
   * A job whose worker died (or blocked its event loop) for this long is run again by another worker,
   * within about two intervals: BullMQ's lock duration and stalled-job check interval. Default 30 s.
   */
  stalledIntervalMs?: number;
  /** On SIGTERM/SIGINT, how long running jobs may take to finish before the process exits anyway. Default 25 s. */
  shutdownTimeoutMs?: number;
  /**
   * Default true: on SIGTERM or SIGINT, stop taking jobs, let the running ones finish (at most
   * `shutdownTimeoutMs`), then exit the process (0, or 1 when jobs were still running). A second signal
   * kills it at once.
   */
  handleSignals?: boolean;
}

/**
 * The idempotency store the worker claims events in (default `false`: none, at-least-once). With a
 * transactional store (`postgresStore({ transactional: true })`) handlers get `context.transaction` and
 * their writes through it happen exactly once; handlers typed for a `transaction` require one.
 */
type StoreOption<C> = C extends { transaction: infer Tx }
  ? { store: TransactionalStore<Tx> }
  : { store?: IdempotencyStore | false };

export type CreateWorkerOptions<C extends HandlerContext = HandlerContext> = BaseWorkerOptions &
  StoreOption<C>;

export interface WebhookWorker extends DeadLetters {
  /** The BullMQ worker: listen to its events, pause it, and so on. */
  readonly worker: Worker<EventJobData, string, string>;
  /** Stops taking jobs, waits for the running ones, and closes its connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * A BullMQ worker running `webhooks`' handlers on the events a receiver queued with `bullmqQueue()`. Each
 * job runs through `processEvent` under `store`'s claim rules; a failure is logged, reported to the
 * `onError` hooks and retried with exponential backoff, and after `attempts` the job stays failed: a dead
 * letter for `listFailed()` and `replay()`.
 */
export function createWorker<C extends HandlerContext = HandlerContext>(
  webhooks: Pick<Router<C>, "dispatch" | "reportError">,
  options: CreateWorkerOptions<C>,
): WebhookWorker {
  const where = "createWorker";
  if (typeof webhooks?.dispatch !== "function" || typeof webhooks.reportError !== "function") {
    throw configError(
      where,
      "pass the receiver (createWebhooks()) or router whose handlers the worker runs.",
    );
  }
  if (typeof options !== "object" || options === null || options.connection === undefined) {
    throw configError(where, "pass { connection } (Redis options or client).");
  }
  const base: BaseWorkerOptions & { store?: IdempotencyStore | false } = options;
  const name = queueName(where, base.name);
  const attempts = positiveInteger(where, "attempts", base.attempts, DEFAULT_ATTEMPTS);
  const backoffMs = positiveInteger(where, "backoffMs", base.backoffMs, DEFAULT_BACKOFF_MS);
  const concurrency = positiveInteger(where, "concurrency", base.concurrency, 1);
  const stalledIntervalMs = positiveInteger(
    where,
    "stalledIntervalMs",
    base.stalledIntervalMs,
    DEFAULT_STALLED_INTERVAL_MS,
    { min: 100 },
  );
  const shutdownTimeoutMs = positiveInteger(
    where,
    "shutdownTimeoutMs",
    base.shutdownTimeoutMs,
    DEFAULT_SHUTDOWN_TIMEOUT_MS,
  );
  const store = base.store ?? false;
  const logger = base.logger === false ? undefined : (base.logger ?? consoleLogger);
  const prefix = base.prefix === undefined ? {} : { prefix: base.prefix };

  const { run, reported } = createJobRunner(webhooks, { attempts, backoffMs, store, logger });

  const worker = new Worker<EventJobData, string, string>(name, run, {
    connection: options.connection,
    concurrency,
    stalledInterval: stalledIntervalMs,
    lockDuration: stalledIntervalMs,
    ...prefix,
  });

  let lastError = { message: "", at: Number.NEGATIVE_INFINITY };
  worker.on("error", (error) => {
    // A Redis outage repeats the same connection error on every reconnect attempt: once a minute is enough.
    const now = Date.now();
    if (error?.message === lastError.message && now - lastError.at < 60_000) return;
    lastError = { message: error?.message, at: now };
    logger?.error({ err: error }, `Queue worker error: ${error?.message}`);
  });
  worker.on("stalled", (jobId) => {
    logger?.warn(
      { eventId: toEventId(jobId) },
      "A queued event's worker stopped (crashed, killed, or blocked past its lock) while running it; it runs again.",
    );
  });
  worker.on("failed", (job, error) => {
    if (reported.has(error)) return;
    // Failed outside the handlers, e.g. stalled more often than BullMQ allows.
    logger?.error(
      {
        eventId: job?.id === undefined ? undefined : toEventId(job.id),
        eventType: job?.data?.type,
        err: error,
      },
      `Queued event failed: ${error.message}`,
    );
  });

  let admin: EventJobQueue | undefined;
  const letters = deadLetters(() => {
    if (admin === undefined) {
      admin = new Queue<EventJobData, string, string>(name, { connection: options.connection, ...prefix });
      admin.on("error", () => {});
    }
    return admin;
  });

  let stopHandlingSignals = () => {};
  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      stopHandlingSignals();
      await worker.close();
      await admin?.close();
    })();
    return closing;
  }
  if (base.handleSignals !== false) {
    stopHandlingSignals = exitOnSignals(close, { timeoutMs: shutdownTimeoutMs, logger });
  }

  return { worker, close, ...letters };
}
