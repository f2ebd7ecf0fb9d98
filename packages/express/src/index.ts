import type { IncomingMessage, ServerResponse } from "node:http";
import type { Webhooks } from "@optare/webhooks";
import { createNodeHandler, type NodeHandlerOptions } from "@optare/webhooks/node";

/** An Express request, with what body parsers leave on it. */
export type ExpressRequest = IncomingMessage & {
  /** Bytes here (from `express.raw()`) are used as the raw body. */
  body?: unknown;
  /** Raw bytes an app kept itself, e.g. in `express.json({ verify })`. */
  rawBody?: unknown;
  /** Set to true by body-parser 1.x (Express 4) once it has read the body. */
  _body?: unknown;
};

const CONSUMED_BODY =
  "The request body was consumed by a body parser (such as express.json()) before the Optare webhook " +
  "middleware ran, and the signature can only be checked over the raw bytes. Mount the webhook route " +
  "before app.use(express.json()), skip this path in that parser, or keep the bytes in req.rawBody with " +
  "express.json({ verify: (req, _res, buf) => { req.rawBody = buf } }).";

/** What Express's body parsers left of the raw body: bytes, `false` when one consumed it, or nothing. */
function rawBody(req: ExpressRequest): Uint8Array | string | false | undefined {
  if (req.body instanceof Uint8Array) return req.body;
  if (typeof req.rawBody === "string" || req.rawBody instanceof Uint8Array) return req.rawBody;
  // body-parser 1.x (Express 4) sets `_body`; 2.x (Express 5) leaves the stream ended, which the core sees.
  return req._body === true ? false : undefined;
}

/** Options of the middleware: the Node transport's body deadline, and `waitUntil`. */
export type WebhookMiddlewareOptions = Pick<NodeHandlerOptions, "bodyTimeoutMs" | "waitUntil">;

/**
 * Express 4/5 middleware: each request, with its raw body, goes to the core (`webhooks.receive`), which
 * answers it. `req.body` bytes from `express.raw()` and `req.rawBody` are used when present; a body an
 * earlier parser consumed gets the core's 500 `raw_body_required` telling what to change.
 */
export function createWebhookMiddleware(
  webhooks: Pick<Webhooks, "receive">,
  options: WebhookMiddlewareOptions = {},
) {
  const handle = createNodeHandler<ExpressRequest>(webhooks, {
    ...options,
    rawBody,
    consumedBodyMessage: CONSUMED_BODY,
  });
  return function optareWebhooks(
    req: ExpressRequest,
    res: ServerResponse,
    next: (error?: unknown) => void,
  ): void {
    handle(req, res).catch(next);
  };
}
