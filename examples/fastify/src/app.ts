import { createWebhooks, type IdempotencyStore, type Webhooks } from "@optare/webhooks";
import { createWebhookPlugin } from "@optare/webhooks-fastify";
import Fastify, { type FastifyInstance } from "fastify";

export interface AppOptions {
  /** The endpoint secret Optare shows when you create the webhook. */
  secret: string | string[];
  /** Default: the in-memory store (one process). Use `redisStore()` when several processes receive. */
  store?: IdempotencyStore;
}

export interface App {
  app: FastifyInstance;
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

  // requestTimeout: how long a client may take to send a whole request (Fastify's default: no limit).
  const app = Fastify({ logger: { level: process.env.LOG_LEVEL ?? "warn" }, requestTimeout: 30_000 });
  // The webhook route, in the plugin's own encapsulated context: there the body reaches the core unparsed
  // (the signature covers its raw bytes), and the core answers every method (405 for anything but POST).
  app.register(createWebhookPlugin(webhooks));
  // The rest of the app keeps Fastify's JSON parser and serializer.
  app.get("/events", async () => processed);
  return { app, webhooks, processed };
}
