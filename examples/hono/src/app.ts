import { createWebhooks, type IdempotencyStore, type Webhooks } from "@optare/webhooks";
import { createWebhookHandler } from "@optare/webhooks-hono";
import { Hono } from "hono";

export interface AppOptions {
  /** The endpoint secret Optare shows when you create the webhook. */
  secret: string | string[];
  /** Default: the in-memory store (one process). Use `redisStore()` when several processes receive. */
  store?: IdempotencyStore;
}

export interface App {
  app: Hono;
  webhooks: Webhooks;
  /** Ids of the events the handlers processed, newest first. */
  processed: string[];
}

/** How many processed ids `GET /events` lists. */
export const KEEP = 1000;

/**
 * The example app: `POST /webhooks/optare` receives, `GET /events` lists the ids of the events the
 * handlers processed, newest first, from this process's memory.
 */
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

  const app = new Hono();
  // The handler gets the route's untouched Request (the signature covers its raw bytes) and answers every
  // method itself: 405 with `Allow: POST` for anything but POST. Do not read the body before it.
  app.all("/webhooks/optare", createWebhookHandler(webhooks));
  app.get("/events", (c) => c.json(processed));
  return { app, webhooks, processed };
}
