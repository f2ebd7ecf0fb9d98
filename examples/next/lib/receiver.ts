import { createWebhooks, type Webhooks } from "@optare/webhooks";

/** How many processed ids `GET /events` remembers (newest first); older ones drop off. */
const MAX_IDS = 1000;

interface Receiver {
  webhooks: Webhooks;
  /** Ids of the events the handlers processed, newest first. */
  processed: string[];
}

function createReceiver(): Receiver {
  const processed: string[] = [];
  const webhooks = createWebhooks({ secret: process.env.OPTARE_WEBHOOK_SECRET ?? "" });
  // Your work goes in `webhooks.on("user.created", (event) => …)`; onAny runs for every event, known or not.
  webhooks.onAny((event) => {
    processed.unshift(event.id);
    processed.length = Math.min(processed.length, MAX_IDS);
  });
  return { webhooks, processed };
}

const shared = globalThis as typeof globalThis & { optareReceiver?: Receiver };

/**
 * The receiver, created on first request and kept on `globalThis`. First request, because `next build`
 * loads every route module and must not need the secret. `globalThis`, because Next.js bundles App Router
 * and Pages Router routes separately, yet they must share one idempotency store and one list in this
 * process. The Edge route runs in its own isolate, so it gets a receiver (store and list) of its own.
 */
function getReceiver(): Receiver {
  shared.optareReceiver ??= createReceiver();
  return shared.optareReceiver;
}

/** What the routes serve: the receiver's `handle` (App Router) and `receive` (Pages Router). */
export const webhooks: Pick<Webhooks, "handle" | "receive"> = {
  handle: (request, context) => getReceiver().webhooks.handle(request, context),
  receive: (input, context) => getReceiver().webhooks.receive(input, context),
};

/** Ids the handlers of this process (or Edge isolate) processed, newest first. */
export function processedIds(): string[] {
  return [...getReceiver().processed];
}
