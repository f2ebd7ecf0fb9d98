import { createWebhooks, type IdempotencyStore, type Webhooks } from "@optare/webhooks";
import { createWebhookMiddleware } from "@optare/webhooks-express";
import express, { type Express } from "express";

export interface AppOptions {
  /** The endpoint secret Optare shows when you create the webhook. */
  secret: string | string[];
  /** Default: the in-memory store (one process). Use `redisStore()` when several processes receive. */
  store?: IdempotencyStore;
}

export interface App {
  app: Express;
  webhooks: Webhooks;
  /** Ids of the events the handlers processed, newest first. */
  processed: string[];
}

/** How many processed ids `GET /events` lists. */
export const KEEP = 1000;

/** The handlers every mode shares; each mode adds its own `onAny` that records the event. */
export function registerHandlers(webhooks: Pick<Webhooks, "on">): void {
  webhooks.on("user.created", (event) => {
    // `event.data` is typed by the event: here `{ user: User }`.
    console.log(`welcome ${event.data.user.email}`);
  });
}

/**
 * The routes every mode shares: `POST /webhooks/optare` receives, `GET /events` answers with
 * `listEvents()` (processed ids, newest first).
 */
export function createExpressApp(
  webhooks: Pick<Webhooks, "receive">,
  listEvents: () => string[] | Promise<string[]>,
): Express {
  const app = express();
  // The webhook route comes FIRST: its signature covers the raw body bytes, which express.json()
  // would consume. The middleware answers every method itself (405 for anything but POST).
  app.all("/webhooks/optare", createWebhookMiddleware(webhooks));

  // The rest of the app parses JSON as usual.
  app.use(express.json());
  // Express 5 passes a rejected promise (e.g. the database is down) to its error handler: a 500.
  app.get("/events", async (_req, res) => {
    res.json(await listEvents());
  });
  return app;
}

/**
 * The example app with the idempotency store in memory (or the one you pass): `POST /webhooks/optare`
 * receives, `GET /events` lists processed ids, newest first, from this process's memory. For the
 * PostgreSQL mode (exactly-once writes to your own table) see `createPostgresApp` in `./postgres`.
 */
export function createApp({ secret, store }: AppOptions): App {
  const processed: string[] = [];
  const webhooks = createWebhooks({ secret, store });

  registerHandlers(webhooks);
  webhooks.onAny((event) => {
    processed.unshift(event.id);
    if (processed.length > KEEP) processed.pop();
  });

  return { app: createExpressApp(webhooks, () => processed), webhooks, processed };
}
