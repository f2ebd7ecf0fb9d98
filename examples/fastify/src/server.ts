import { createApp } from "./app";

const secret = process.env.OPTARE_WEBHOOK_SECRET;
if (!secret) {
  console.error("Set OPTARE_WEBHOOK_SECRET to the endpoint secret Optare gave you.");
  process.exit(1);
}
const port = Number(process.env.PORT ?? 3000);

const { app } = createApp({ secret });
// HOST unset: every interface (Fastify's own default is localhost only).
await app.listen({ port, host: process.env.HOST ?? "0.0.0.0" });
console.log(`Listening on port ${port}: POST /webhooks/optare, GET /events`);

// Stop taking requests, let those in flight finish, then exit.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.close().then(() => process.exit(0));
  });
}
