import { createWebhooks } from "@optare/webhooks";
import { defineWebhooks } from "@optare/webhooks-next";

/** How many processed ids `GET /events` remembers (newest first); older ones drop off. */
const MAX_IDS = 1000;

/**
 * One receiver for the App Router and Pages Router routes of this process: Next.js bundles them
 * separately, and `defineWebhooks` hands every bundle the same receiver (one idempotency store, one
 * list), created on the first request. The secret is read then too, so `next build` needs none; a
 * missing secret answers 500 and is logged on every request until it is set. The Edge route runs in an
 * isolate of its own, so it gets a receiver (store and list) of its own.
 */
export const webhooks = defineWebhooks(() => {
  const processed: string[] = [];
  const receiver = createWebhooks({ secret: () => process.env.OPTARE_WEBHOOK_SECRET });
  // Your work goes in `receiver.on("user.created", (event) => …)`; onAny runs for every event, known or not.
  receiver.onAny((event) => {
    processed.unshift(event.id);
    processed.length = Math.min(processed.length, MAX_IDS);
  });
  return Object.assign(receiver, { processed });
});

/** Ids the handlers of this process (or Edge isolate) processed, newest first. */
export function processedIds(): string[] {
  return [...webhooks.get().processed];
}
