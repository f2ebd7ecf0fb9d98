import type { ServerResponse } from "node:http";
import type { Webhooks } from "@optare/webhooks";
import { createNodeHandler, type NodeRequest } from "@optare/webhooks/node";

const CONSUMED_BODY =
  "The request body was consumed by a body parser (such as express.json()) before the Optare webhook " +
  "middleware ran, and the signature can only be checked over the raw bytes. Mount the webhook route " +
  "before app.use(express.json()), skip this path in that parser, or keep the bytes in req.rawBody with " +
  "express.json({ verify: (req, _res, buf) => { req.rawBody = buf } }).";

/**
 * Express 4/5 middleware: each request, with its raw body, goes to the core (`webhooks.receive`), which
 * answers it. `req.body` bytes from `express.raw()` and `req.rawBody` are used when present; a body an
 * earlier parser consumed gets the core's 500 `raw_body_required` telling what to change.
 */
export function createWebhookMiddleware(webhooks: Pick<Webhooks, "receive">) {
  const handle = createNodeHandler(webhooks, { consumedBodyMessage: CONSUMED_BODY });
  return function optareWebhooks(
    req: NodeRequest,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    handle(req, res).catch(next);
  };
}
