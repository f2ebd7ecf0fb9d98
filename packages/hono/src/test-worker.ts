// A Cloudflare Worker for the workerd tests in index.test.ts (not part of the build): a Hono app with the
// adapter, bundled with esbuild for a Web-standard runtime and served by the real `workerd`.
import { env } from "cloudflare:workers";
import { createWebhooks } from "@optare/webhooks";
import { createWebhookHandler } from "@optare/webhooks-hono";
import { Hono } from "hono";

// The test's settings come as text bindings, like the secret.
const processed: string[] = [];
const webhooks = createWebhooks({
  secret: () => env.OPTARE_WEBHOOK_SECRET,
  ackTimeoutMs: Number(env.ACK_TIMEOUT_MS),
  logger: false,
});
webhooks.onAny(async (event) => {
  // Events of this (unknown) type run a handler that takes `data.ms` ms: past the ack deadline.
  if (event.event === env.SLOW_EVENT_TYPE) {
    await new Promise((resolve) => setTimeout(resolve, (event.data as { ms: number }).ms));
  }
  processed.unshift(event.id);
});

const app = new Hono();
app.all("/webhooks/optare", createWebhookHandler(webhooks));
app.get("/events", (c) => c.json(processed));
app.post("/api/echo", async (c) => c.json({ parsed: await c.req.json() }));
// Where this runs: workerd says "Cloudflare-Workers" and has no `process` without nodejs_compat.
app.get("/runtime", (c) => c.json({ userAgent: navigator.userAgent, process: typeof process }));

export default app;
