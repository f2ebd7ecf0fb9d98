import type { HandleContext, Webhooks } from "@optare/webhooks";

/** An App Router route handler, exported under an HTTP method name. */
export type RouteHandler = (request: Request) => Promise<Response>;

/**
 * Receives Optare webhooks in an App Router route: `export const POST = createRouteHandler(webhooks)`.
 * The route's `Request` carries the raw body, which the core reads. Imports nothing from Node.js (nor
 * Next.js), so it runs on the Node.js and the Edge runtime alike. `context` reaches the core: pass
 * `{ waitUntil: after }` (from `next/server`) where the platform freezes once the response is sent.
 */
export function createRouteHandler(
  webhooks: Pick<Webhooks, "handle">,
  context?: HandleContext,
): RouteHandler {
  return (request) => webhooks.handle(request, context);
}

export { defineWebhooks, type SharedWebhooks } from "./shared";
