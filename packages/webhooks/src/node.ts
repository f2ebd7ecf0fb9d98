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

const END: IteratorResult<Uint8Array> = Object.freeze({ done: true, value: undefined });
const closedEarly = () => new Error("The request closed before its body ended.");

/** The next chunk if one can be had without waiting, `END` at the end, or null: wait for 'readable'. */
function poll(req: IncomingMessage): IteratorResult<Uint8Array> | null {
  const chunk = req.read() as Buffer | null;
  if (chunk !== null) return { done: false, value: chunk };
  // `complete`: the parser has pushed the whole body and `read()` found none of it left, so there is
  // no need to wait for the 'end' event that follows on a later tick.
  return req.readableEnded || req.complete ? END : null;
}

/**
 * The request's chunks, pulled with `read()`: a body that arrived with the headers costs no listener at
 * all (see `next`), which Readable's own async iterator cannot match on this hot path; only a body still
 * on its way is awaited with 'readable'. `return()` (the core giving up on an endless body) destroys the
 * request.
 */
function chunksOf(req: IncomingMessage): AsyncIterable<Uint8Array> {
  const wait = (): Promise<IteratorResult<Uint8Array>> => {
    if (req.destroyed) return Promise.reject(closedEarly());
    return new Promise((resolve, reject) => {
      // 'readable' also fires at the end of the body, before 'end'; 'close' covers a destroyed request.
      const detach = () => req.off("readable", settle).off("error", fail).off("close", settle);
      const settle = () => {
        const result = poll(req);
        if (result === null && !req.destroyed) return; // Spurious wake-up: keep waiting.
        detach();
        if (result !== null) resolve(result);
        else reject(closedEarly());
      };
      const fail = (error: Error) => {
        detach();
        reject(error);
      };
      req.on("readable", settle).on("error", fail).on("close", settle);
    });
  };
  let first = true;
  const next = (): Promise<IteratorResult<Uint8Array>> => {
    const ready = poll(req);
    if (ready !== null) return Promise.resolve(ready);
    if (!first) return wait();
    first = false;
    // The first read runs inside the 'request' event, before Node's parser has pushed the body that
    // usually came in the same packet as the headers. The parser calls back into JavaScript once per
    // part (microtasks run in between), but it has pushed the whole packet by the event loop's next
    // check phase: look once more there before listening for 'readable'.
    return new Promise((resolve) => setImmediate(() => resolve(poll(req) ?? wait())));
  };
  const iterator: AsyncIterator<Uint8Array> = {
    next,
    return: async () => {
      req.destroy();
      return END;
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
    // Headers set one by one and no writeHead: `end` then adds Content-Length itself. (writeHead would
    // fix the head before the body is known, and Node would fall back to chunked encoding.)
    res.statusCode = reply.status;
    for (const name in reply.headers) res.setHeader(name, reply.headers[name]!);
    res.end(reply.body);
  };
}
