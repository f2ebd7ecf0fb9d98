import type { Express } from "express";
import { createApp } from "./app";
import { createPostgresApp, DEFAULT_EVENTS_TABLE, openEventsTable } from "./postgres";
import {
  BOARD_PATH,
  createQueueApp,
  createQueuePostgresWebhooks,
  createQueueWebhooks,
  DEFAULT_EVENTS_KEY,
  queueSettingsFromEnv,
} from "./queue";

const secret = process.env.OPTARE_WEBHOOK_SECRET;
if (!secret) {
  console.error("Set OPTARE_WEBHOOK_SECRET to the endpoint secret Optare gave you.");
  process.exit(1);
}
const port = Number(process.env.PORT ?? 3000);

// OPTARE_QUEUE_URL set: queue mode, this process only enqueues and `npm run worker` runs the handlers.
// Else DATABASE_URL set: PostgreSQL, one transaction per event (SPEC §11). Neither: the in-memory store.
let app: Express;
let close = async () => {};
const databaseUrl = process.env.DATABASE_URL;
const queueSettings = queueSettingsFromEnv();
if (queueSettings) {
  const table = process.env.EVENTS_TABLE || DEFAULT_EVENTS_TABLE;
  try {
    // With DATABASE_URL the worker writes to the app's table; this process only reads it for GET /events
    // (and creates it when missing, so GET /events answers before any worker ran).
    const queue = databaseUrl
      ? createQueuePostgresWebhooks({
          secret,
          settings: queueSettings,
          events: await openEventsTable({ databaseUrl, table, migrateLog: false }),
        })
      : createQueueWebhooks({ secret, settings: queueSettings });
    app = createQueueApp(queue);
    close = queue.close;
    console.log(
      `Queue mode: events go to queue ${queue.queue.name}; run \`npm run worker\` to process them. ` +
        (databaseUrl
          ? `Processed events in table ${table} (PostgreSQL).`
          : `Processed ids in the Redis list ${queueSettings.eventsKey ?? DEFAULT_EVENTS_KEY}.`),
    );
    console.log(
      `bull-board at ${BOARD_PATH}: unprotected here, put it behind your authentication in production`,
    );
  } catch (error) {
    // The URLs are not printed: they may hold a password.
    console.error(`Could not set up queue mode: ${(error as Error).message}`);
    process.exit(1);
  }
} else if (databaseUrl) {
  const table = process.env.EVENTS_TABLE || DEFAULT_EVENTS_TABLE;
  try {
    ({ app, close } = await createPostgresApp({
      secret,
      databaseUrl,
      table,
      logTable: process.env.WEBHOOK_LOG_TABLE || undefined,
      failOnceType: process.env.FAIL_ONCE_EVENT_TYPE || undefined,
    }));
  } catch (error) {
    // The URL is not printed: it may hold a password.
    console.error(`Could not set up PostgreSQL (DATABASE_URL): ${(error as Error).message}`);
    process.exit(1);
  }
  console.log(`Store: PostgreSQL, transactional; processed events in table ${table}`);
} else {
  ({ app } = createApp({ secret, failOnceType: process.env.FAIL_ONCE_EVENT_TYPE || undefined }));
  console.log(
    "Store: in memory (one process); set DATABASE_URL=postgres://… for PostgreSQL, OPTARE_QUEUE_URL=redis://… for queue mode",
  );
}

const onListening = (error?: Error) => {
  if (error) throw error;
  console.log(`Listening on port ${port}: POST /webhooks/optare, GET /events`);
};
// HOST unset: every interface, as Express does by default.
const server = process.env.HOST
  ? app.listen(port, process.env.HOST, onListening)
  : app.listen(port, onListening);

// Stop taking requests, let those in flight finish (their transactions commit or roll back), then end
// the pool (or the queue's connections).
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close(() =>
      close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`Closing the connections failed: ${(error as Error).message}`);
          process.exit(1);
        },
      ),
    );
  });
}
