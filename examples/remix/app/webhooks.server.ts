import { createWebhooks } from "@optare/webhooks";

/** How many processed ids `GET /events` remembers. */
const KEEP = 1000;

/** Event ids the handlers processed, newest first. */
export const processed: string[] = [];

// One receiver per server process. The default store is in memory: use `redisStore()` from
// `@optare/webhooks-redis` when several processes receive.
export const webhooks = createWebhooks({ secret: process.env.OPTARE_WEBHOOK_SECRET ?? "" });

webhooks.on("user.created", (event) => {
  // `event.data` is typed by the event: here `{ user: User }`.
  console.log(`welcome ${event.data.user.email}`);
});
webhooks.onAny((event) => {
  processed.unshift(event.id);
  if (processed.length > KEEP) processed.pop();
});
