// `npm run worker`: the worker process of queue mode (SPEC §8.3, §11). Same environment as the web
// process (`npm start` with OPTARE_QUEUE_URL): it takes the events the web process queued and runs the
// handlers of `./queue` on them: the very module the web process registers them from. Run as many as you
// like. SIGTERM / SIGINT: stop taking jobs, let the running ones finish (25 s at most), exit.
import { createWorker, type WebhookWorker } from "@optare/webhooks-bullmq";
import { postgresStore } from "@optare/webhooks-postgres";
import { DEFAULT_EVENTS_TABLE, type EventsTable, openEventsTable } from "./postgres";
import {
  createQueuePostgresWebhooks,
  createQueueWebhooks,
  DEFAULT_EVENTS_KEY,
  queueSettingsFromEnv,
} from "./queue";

const settings = queueSettingsFromEnv();
if (!settings) {
  console.error(
    "Set OPTARE_QUEUE_URL=redis://… to the web process's queue (the same environment as npm start).",
  );
  process.exit(1);
}
// The worker verifies no signature: the secret is only read on a request, which never comes here.
const secret = () => process.env.OPTARE_WEBHOOK_SECRET;
// Jobs run one at a time by default, so GET /events lists them in the order they were queued.
const concurrency = Number(process.env.WORKER_CONCURRENCY || 1);
const failOnceType = process.env.FAIL_ONCE_EVENT_TYPE || undefined;

let worker: WebhookWorker;
const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl) {
  // DATABASE_URL too: each job claims its event in the transactional PostgreSQL store, and the handler's
  // row is written through the event's transaction (exactly once).
  const table = process.env.EVENTS_TABLE || DEFAULT_EVENTS_TABLE;
  const logTable = process.env.WEBHOOK_LOG_TABLE || undefined;
  let events: EventsTable;
  try {
    events = await openEventsTable({ databaseUrl, table, logTable });
  } catch (error) {
    // The URL is not printed: it may hold a password.
    console.error(`Could not set up PostgreSQL (DATABASE_URL): ${(error as Error).message}`);
    process.exit(1);
  }
  const queue = createQueuePostgresWebhooks({ secret, settings, failOnceType, events });
  const store = postgresStore({
    client: events.pool,
    transactional: true,
    ...(logTable === undefined ? {} : { table: logTable }),
  });
  worker = createWorker(queue.webhooks, { ...queue.worker, concurrency, store });
  console.log(`Worker store: PostgreSQL, transactional; processed events in table ${table}`);
} else {
  const queue = createQueueWebhooks({ secret, settings, failOnceType });
  worker = createWorker(queue.webhooks, { ...queue.worker, concurrency });
  console.log(`Worker: processed ids in the Redis list ${settings.eventsKey ?? DEFAULT_EVENTS_KEY}`);
}
worker.worker.on("completed", (job, result) => console.log(`processed ${job.id} (${job.name}): ${result}`));

await worker.worker.waitUntilReady();
// The URL is not printed: it may hold a password.
console.log(`Worker ready: running the handlers on queue ${worker.worker.name} (concurrency ${concurrency})`);
