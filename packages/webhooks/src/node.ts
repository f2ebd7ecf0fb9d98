// Node's `http` transport for the core, shared by the Express and Next.js Pages Router adapters: the
// request goes to `webhooks.receive` with its raw body streamed as it arrives (no `Request` object, no
// Web streams), and the reply is written back. Every decision is the core's.
import type { IncomingMessage, ServerResponse } from "node:http";
import { WebhookError } from "./errors";
import type { HandleContext, Webhooks } from "./handler";

/** A Node request, plus what body parsers leave on it. */
export type NodeRequest = IncomingMessage & {
  /** Bytes here (from `express.raw()`) are used as the raw body. */
  body?: unknown;
  /** Raw bytes an app kept itself, e.g. in `express.json({ verify })`. */
  rawBody?: unknown;
};

export interface NodeHandlerOptions extends HandleContext {
  /** What to tell the developer when a body parser consumed the body first (a 500 `raw_body_required`). */
  consumedBodyMessage?: string;
}

const CONSUMED_BODY =
  "The request body was consumed by a body parser before the Optare webhook handler ran, so the signed " +
  "bytes are gone. Let the raw body reach this route: mount it before any JSON body parser.";

/** A body that fails when read: the core answers with the error's own code and status. */
function failing(error: WebhookError): AsyncIterable<Uint8Array> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
  };
}

/**
 * The request's chunks, pulled with `read()`: a body that arrived with the headers costs no listener at
 * all, which Readable's own async iterator cannot match on this hot path. `return()` (the core giving up
 * on an endless body) destroys the request.
 */
function chunksOf(req: IncomingMessage): AsyncIterable<Uint8Array> {
  const next = (): Promise<IteratorResult<Uint8Array>> => {
    const chunk = req.read() as Buffer | null;
    if (chunk !== null) return Promise.resolve({ done: false, value: chunk });
    if (req.readableEnded) return Promise.resolve({ done: true, value: undefined });
    if (req.destroyed) return Promise.reject(new Error("The request closed before its body ended."));
    return new Promise((resolve, reject) => {
      const done = () => {
        req.off("readable", ready).off("end", ready).off("error", fail).off("close", ready);
      };
      const ready = () => {
        done();
        resolve(next());
      };
      const fail = (error: Error) => {
        done();
        reject(error);
      };
      req.on("readable", ready).on("end", ready).on("error", fail).on("close", ready);
    });
  };
  const iterator: AsyncIterator<Uint8Array> = {
    next,
    return: async () => {
      req.destroy();
      return { done: true, value: undefined };
    },
  };
  return { [Symbol.asyncIterator]: () => iterator };
}

function rawBodyOf(req: NodeRequest, consumedBodyMessage: string) {
  if (req.body instanceof Uint8Array) return req.body;
  if (typeof req.rawBody === "string" || req.rawBody instanceof Uint8Array) return req.rawBody;
  // body-parser 1.x (Express 4) sets `_body`; 2.x (Express 5), Next.js and others leave the stream ended.
  if (req.readableEnded || (req as { _body?: unknown })._body === true) {
    return failing(new WebhookError("raw_body_required", consumedBodyMessage));
  }
  return chunksOf(req);
}

/**
 * A `(req, res)` handler for Node's `http` servers (and frameworks built on them) that feeds each request
 * to `webhooks.receive` and writes the reply. Resolves once the reply is written.
 */
export function createNodeHandler(
  webhooks: Pick<Webhooks, "receive">,
  { consumedBodyMessage = CONSUMED_BODY, ...context }: NodeHandlerOptions = {},
): (req: NodeRequest, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    };
    const reply = await webhooks.receive(
      { method: req.method ?? "GET", header, body: rawBodyOf(req, consumedBodyMessage) },
      context,
    );
    res.writeHead(reply.status, reply.headers).end(reply.body);
  };
}
