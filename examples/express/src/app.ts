import { createWebhooks, type IdempotencyStore, type WebhookEvent, type Webhooks } from "@optare/webhooks";
import { createWebhookMiddleware } from "@optare/webhooks-express";
import express, { type Express } from "express";

export interface AppOptions {
  /** The endpoint secret Optare shows when you create the webhook. */
  secret: string | string[];
  /** Default: the in-memory store (one process). Use `redisStore()` when several processes receive. */
  store?: IdempotencyStore;
  /**
   * For trying retries out (and for the inspector's e2e test): events of this type make the handler throw
   * on their first attempt in this process, so the delivery is answered 500 and the retry processes it.
   */
  failOnceType?: string;
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
 * For trying the rollback out: a function that throws on the first call for each event of `type` (in this
 * process), and does nothing otherwise. Call it AFTER the handler's write; `write` names it in the error.
 */
export function failOnce(type: string | undefined, write = "its INSERT"): (event: WebhookEvent) => void {
  const failed = new Set<string>();
  return (event) => {
    if (type === undefined || event.event !== type || failed.has(event.id)) return;
    failed.add(event.id);
    throw new Error(`${event.id} (${event.event}) fails its first attempt, after ${write} (failOnceType)`);
  };
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
export function createApp({ secret, store, failOnceType }: AppOptions): App {
  const processed: string[] = [];
  const webhooks = createWebhooks({ secret, store });
  const maybeFail = failOnce(failOnceType, "no write (in-memory mode)");

  registerHandlers(webhooks);
  webhooks.onAny((event) => {
    maybeFail(event);
    processed.unshift(event.id);
    if (processed.length > KEEP) processed.pop();
  });

  return { app: createExpressApp(webhooks, () => processed), webhooks, processed };
}
