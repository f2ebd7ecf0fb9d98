import { serve } from "@hono/node-server";
import { createApp } from "./app";

const secret = process.env.OPTARE_WEBHOOK_SECRET;
if (!secret) {
  console.error("Set OPTARE_WEBHOOK_SECRET to the endpoint secret Optare gave you.");
  process.exit(1);
}
const port = Number(process.env.PORT ?? 3000);

const { app } = createApp({ secret });
// HOST unset: every interface, as Node's `listen` does by default.
const server = serve({ fetch: app.fetch, port, hostname: process.env.HOST }, () => {
  console.log(`Listening on port ${port}: POST /webhooks/optare, GET /events`);
});

// Stop taking requests, let those in flight finish, then exit.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close(() => process.exit(0));
  });
}
