import { createApp } from "./app";

const secret = process.env.OPTARE_WEBHOOK_SECRET;
if (!secret) {
  console.error("Set OPTARE_WEBHOOK_SECRET to the endpoint secret Optare gave you.");
  process.exit(1);
}
const port = Number(process.env.PORT ?? 3000);
const { app } = createApp({ secret });
const onListening = (error?: Error) => {
  if (error) throw error;
  console.log(`Listening on port ${port}: POST /webhooks/optare, GET /events`);
};
// HOST unset: every interface, as Express does by default.
const server = process.env.HOST
  ? app.listen(port, process.env.HOST, onListening)
  : app.listen(port, onListening);
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => server.close(() => process.exit(0)));
