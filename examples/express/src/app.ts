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

/** How many processed ids `GET /events` remembers. */
const KEEP = 1000;

/** The example app: `POST /webhooks/optare` receives, `GET /events` lists processed ids, newest first. */
export function createApp({ secret, store }: AppOptions): App {
  const processed: string[] = [];
  const webhooks = createWebhooks({ secret, store });

  webhooks.on("user.created", (event) => {
    // `event.data` is typed by the event: here `{ user: User }`.
    console.log(`welcome ${event.data.user.email}`);
  });
  webhooks.onAny((event) => {
    processed.unshift(event.id);
    if (processed.length > KEEP) processed.pop();
  });

  const app = express();
  // The webhook route comes FIRST: its signature covers the raw body bytes, which express.json()
  // would consume. The middleware answers every method itself (405 for anything but POST).
  app.all("/webhooks/optare", createWebhookMiddleware(webhooks));

  // The rest of the app parses JSON as usual.
  app.use(express.json());
  app.get("/events", (_req, res) => {
    res.json(processed);
  });

  return { app, webhooks, processed };
}
