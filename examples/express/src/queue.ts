// The queue mode of the example (SPEC §8.3, §11): the web process makes every check of a delivery, puts
// the event in a BullMQ queue and answers 200 {"received":true,"queued":true}; the worker process
// (`npm run worker`, src/worker.ts) runs the handlers. Both processes build their receiver with
// `createQueueWebhooks` below, so the handlers are defined in one place: the web process registers them
// but never runs them, the worker runs exactly these.
import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { ExpressAdapter } from "@bull-board/express";
import {
  createWebhooks,
  type HandlerContext,
  type IdempotencyStore,
  type SecretOption,
  type TransactionalStore,
  type Webhooks,
} from "@optare/webhooks";
import { type BullmqEventQueue, bullmqQueue, DEFAULT_QUEUE_NAME } from "@optare/webhooks-bullmq";
import type { Express } from "express";
import { Redis } from "ioredis";
import type pg from "pg";
import { createExpressApp, KEEP, registerHandlers } from "./app";
import { type EventsTable, failOnce } from "./postgres";

/** The Redis list of processed ids, unless `EVENTS_KEY` says otherwise. */
export const DEFAULT_EVENTS_KEY = "optare-example:processed-events";
/** Where bull-board is mounted in queue mode. */
export const BOARD_PATH = "/admin/queues";

export interface QueueSettings {
  /** `redis://[user:password@]host:6379[/db]`: the queue's Redis (`OPTARE_QUEUE_URL`). */
  url: string;
  /** The BullMQ queue name (`OPTARE_QUEUE_NAME`). Default `optare-webhooks`. */
  name?: string;
  /** BullMQ's key prefix (`OPTARE_QUEUE_PREFIX`). Default `bull`. */
  prefix?: string;
  /** The Redis list of processed ids, without PostgreSQL (`EVENTS_KEY`). Default `optare-example:processed-events`. */
  eventsKey?: string;
}

/** The queue settings from the environment, or undefined when `OPTARE_QUEUE_URL` is unset (no queue mode). */
export function queueSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): QueueSettings | undefined {
  if (!env.OPTARE_QUEUE_URL) return undefined;
  return {
    url: env.OPTARE_QUEUE_URL,
    name: env.OPTARE_QUEUE_NAME || undefined,
    prefix: env.OPTARE_QUEUE_PREFIX || undefined,
    eventsKey: env.EVENTS_KEY || undefined,
  };
}

/** The receiver of queue mode, with its handlers registered, and what both processes need around it. */
export interface QueueWebhooks<C extends HandlerContext = HandlerContext> {
  webhooks: Webhooks<C>;
  /** The producer side: `queue.queue` is the BullMQ `Queue` (bull-board shows it). */
  queue: BullmqEventQueue;
  /** What `createWorker` needs to find the same queue: `{ connection, name, prefix }`. */
  worker: { connection: { url: string }; name: string; prefix?: string };
  /** Processed ids, newest first, at most 1000: what `GET /events` answers, in every process alike. */
  listEvents: () => Promise<string[]>;
  /** Closes what this opened (the queue's connection, the Redis client or the PostgreSQL pool). */
  close: () => Promise<void>;
}

export interface QueueWebhooksOptions {
  /**
   * The endpoint secret. The worker verifies nothing: pass `() => process.env.OPTARE_WEBHOOK_SECRET` there,
   * read on the first request, which never comes.
   */
  secret: SecretOption;
  settings: QueueSettings;
  /** Events of this type make the handler throw after recording them, on their first attempt in this process. */
  failOnceType?: string;
}

/**
 * `createWebhooks` in queue mode, with the shared handlers. `S` is the store the WORKER claims events in:
 * it types the handlers' context (`TransactionalStore<Tx>` gives them `context.transaction`).
 */
function receiver<S extends IdempotencyStore | false>(secret: SecretOption, settings: QueueSettings) {
  const worker = {
    connection: { url: settings.url },
    name: settings.name ?? DEFAULT_QUEUE_NAME,
    ...(settings.prefix === undefined ? {} : { prefix: settings.prefix }),
  };
  // The queue connects on first use: on the first delivery (or when bull-board mounts it), never in the worker.
  const queue = bullmqQueue(worker);
  // Queue mode: every §3 check, then the job; no store here (the queue deduplicates on the event id).
  const webhooks = createWebhooks<S>({ secret, queue });
  registerHandlers(webhooks);
  return { webhooks, queue, worker };
}

/**
 * Queue mode, processed ids in Redis: the handler pushes each processed id onto a Redis list (`LPUSH`, then
 * `LTRIM` to 1000, in one `MULTI`), which every process reads. At least once, as queue mode is without a
 * store: a job retried after its handler failed past the push lists its id again.
 */
export function createQueueWebhooks({ secret, settings, failOnceType }: QueueWebhooksOptions): QueueWebhooks {
  const key = settings.eventsKey ?? DEFAULT_EVENTS_KEY;
  const { webhooks, queue, worker } = receiver<IdempotencyStore>(secret, settings);
  const redis = new Redis(settings.url, { maxRetriesPerRequest: 3 });
  // Without a listener, ioredis prints every reconnect attempt; the failing command still reports it.
  redis.on("error", () => {});

  const maybeFail = failOnce(failOnceType, "its push onto the Redis list");
  webhooks.onAny(async (event) => {
    const results = await redis
      .multi()
      .lpush(key, event.id)
      .ltrim(key, 0, KEEP - 1)
      .exec();
    // EXEC reports a command's failure (e.g. WRONGTYPE) in its results, not as a rejection: fail the job.
    const failed = results?.find(([error]) => error !== null);
    if (failed) throw failed[0];
    maybeFail(event);
  });

  let closed: Promise<void> | undefined;
  return {
    webhooks,
    queue,
    worker,
    listEvents: () => redis.lrange(key, 0, KEEP - 1),
    close: () =>
      (closed ??= (async () => {
        await queue.close();
        await redis.quit().catch(() => redis.disconnect());
      })()),
  };
}

/** Handlers get `context.transaction` in the worker: the pg `PoolClient` of the event's transaction. */
export type PostgresQueueContext = HandlerContext & { transaction: pg.PoolClient };

/**
 * Queue mode with `DATABASE_URL`: the worker claims each event in the transactional PostgreSQL store, and
 * the handler inserts its row into the app's table through `context.transaction`: exactly once, committed
 * with the event's completion or rolled back with it. Every process lists processed ids from that table.
 */
export function createQueuePostgresWebhooks({
  secret,
  settings,
  failOnceType,
  events,
}: QueueWebhooksOptions & { events: EventsTable }): QueueWebhooks<PostgresQueueContext> {
  // Typed for the transaction: `createWorker` then requires a transactional store of pg.PoolClient.
  const { webhooks, queue, worker } = receiver<TransactionalStore<pg.PoolClient>>(secret, settings);
  const maybeFail = failOnce(failOnceType);
  webhooks.onAny(async (event, { transaction }) => {
    await events.insert(transaction, event);
    maybeFail(event);
  });

  let closed: Promise<void> | undefined;
  return {
    webhooks,
    queue,
    worker,
    listEvents: events.list,
    close: () =>
      (closed ??= (async () => {
        await queue.close();
        await events.close();
      })()),
  };
}

/**
 * The web process of queue mode: `POST /webhooks/optare` verifies and enqueues, `GET /events` lists the ids
 * the workers processed, and bull-board shows the queue at `/admin/queues`.
 */
export function createQueueApp<C extends HandlerContext>(receiver: QueueWebhooks<C>): Express {
  const app = createExpressApp(receiver.webhooks, receiver.listEvents);

  // bull-board: the queue's jobs (waiting, active, completed, failed with their errors) and buttons to
  // retry or remove them. It is NOT protected here: in production, put your own authentication in front
  // of it (`app.use(BOARD_PATH, requireAdmin, board.getRouter())`), or don't mount it.
  const board = new ExpressAdapter();
  board.setBasePath(BOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(receiver.queue.queue)], serverAdapter: board });
  app.use(BOARD_PATH, board.getRouter());
  return app;
}
