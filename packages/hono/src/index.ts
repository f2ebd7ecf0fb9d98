import type { HandleContext, Webhooks } from "@optare/webhooks";
import type { Context } from "hono";

/** A Hono handler: mount it with `app.all(path, …)` so the core answers every method. */
export type WebhookHandler = (c: Context) => Promise<Response>;

/**
 * The runtime's `waitUntil`, where Hono has an execution context (Cloudflare Workers and Pages, service
 * workers). Elsewhere (Node.js, Bun, Deno, Vercel, Netlify) `c.executionCtx` throws: none.
 */
function waitUntilOf(c: Context): HandleContext["waitUntil"] {
  try {
    const executionCtx = c.executionCtx;
    return (promise) => executionCtx.waitUntil(promise);
  } catch {
    return undefined;
  }
}

/**
 * Receives Optare webhooks in a Hono app: `app.all("/webhooks/optare", createWebhookHandler(webhooks))`.
 * The route's own Web `Request` (`c.req.raw`, body unread) goes to `webhooks.handle`, whose `Response` is
 * returned as is. `waitUntil` comes from `c.executionCtx` when the runtime has one; a `context` passed here
 * is used instead.
 */
export function createWebhookHandler(
  webhooks: Pick<Webhooks, "handle">,
  context?: HandleContext,
): WebhookHandler {
  return (c) => webhooks.handle(c.req.raw, context ?? { waitUntil: waitUntilOf(c) });
}
