import "reflect-metadata";
import { NestFactory } from "@nestjs/core";
import type { NestExpressApplication } from "@nestjs/platform-express";
import express from "express";
import { AppModule, WEBHOOK_PATH } from "./app.module.js";

if (!process.env.OPTARE_WEBHOOK_SECRET) {
  console.error("Set OPTARE_WEBHOOK_SECRET to the endpoint secret Optare gave you.");
  process.exit(1);
}
const port = Number(process.env.PORT ?? 3000);

// The signature covers the raw body bytes, so the webhook route must get the body unparsed. Nest's own
// body parser is turned off and the app's JSON parser skips that one path: the request stream then goes
// straight to the core, which makes every decision itself (400 bad JSON, 413 over 1 MiB, 401, ...).
// (The one-line alternative, NestFactory.create(AppModule, { rawBody: true }), also verifies signatures,
// but then Nest's parser answers malformed JSON and bodies over 100 kB before the core sees them.)
const app = await NestFactory.create<NestExpressApplication>(AppModule, {
  bodyParser: false,
  logger: ["error", "warn"],
});
const json = express.json();
app.use((req: express.Request, res: express.Response, next: express.NextFunction) =>
  req.path === WEBHOOK_PATH ? next() : json(req, res, next),
);
app.enableShutdownHooks(); // SIGTERM/SIGINT: stop taking requests, let those in flight finish, exit.

// HOST unset: every interface, as Express does by default.
await (process.env.HOST ? app.listen(port, process.env.HOST) : app.listen(port));
console.log(`Listening on port ${port}: POST ${WEBHOOK_PATH}, GET /events`);
