import type { Express } from "express";
import { createApp } from "./app";
import { createPostgresApp, DEFAULT_EVENTS_TABLE } from "./postgres";

const secret = process.env.OPTARE_WEBHOOK_SECRET;
if (!secret) {
  console.error("Set OPTARE_WEBHOOK_SECRET to the endpoint secret Optare gave you.");
  process.exit(1);
}
const port = Number(process.env.PORT ?? 3000);

// DATABASE_URL set: PostgreSQL, one transaction per event (SPEC §11). Unset: the in-memory store.
let app: Express;
let close = async () => {};
const databaseUrl = process.env.DATABASE_URL;
if (databaseUrl) {
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
  ({ app } = createApp({ secret }));
  console.log("Store: in memory (one process); set DATABASE_URL=postgres://… for PostgreSQL");
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
// the pool.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close(() =>
      close().then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(`Closing the PostgreSQL pool failed: ${(error as Error).message}`);
          process.exit(1);
        },
      ),
    );
  });
}
