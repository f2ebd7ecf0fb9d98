// Node's `http` transport for the core, shared by the Express and Next.js Pages Router adapters: the
// request goes to `webhooks.receive` with its raw body streamed as it arrives (no `Request` object, no
// Web streams), and the reply is written back. Every decision is the core's.
import type { IncomingMessage, ServerResponse } from "node:http";
import { WebhookError } from "./errors";
import { integerOption } from "./options";
import type { HandleContext, Webhooks } from "./receiver";

/** A Node request, as `http` servers and the frameworks built on them pass it. */
export type NodeRequest = IncomingMessage;

export interface NodeHandlerOptions<R extends IncomingMessage = IncomingMessage> extends HandleContext {
  /**
   * For framework adapters: where the framework left the raw body. Return the bytes when a parser kept
   * them (`express.raw()`), `false` when one consumed them (the core then answers 500
   * `raw_body_required` with `consumedBodyMessage`), or `undefined` to read the request stream.
   */
  rawBody?: (req: R) => Uint8Array | string | false | undefined;
  /** What to tell the developer when the body was consumed before the handler ran. */
  consumedBodyMessage?: string;
  /**
   * How long a client may take to send the whole body, in ms, from the moment the handler runs (default
   * 10 s). A slower or stalled body is answered 408 `request_timeout` and its connection closed, so an
   * unauthenticated client cannot hold a connection for Node's 300-second `requestTimeout`.
   */
  bodyTimeoutMs?: number;
}

export const DEFAULT_BODY_TIMEOUT_MS = 10_000;

const CONSUMED_BODY =
  "The request body was consumed before the Optare webhook handler ran, so the signed bytes are gone. " +
  "Let the raw body reach this route: mount it before any JSON body parser.";

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
 * on its way is awaited with 'readable', until the body deadline. `return()` (the core giving up on an
 * endless body) destroys the request.
 *
 * A class, so that each request's iterator is one plain object. Receipt: it was an object literal with a
 * `get timedOut()` accessor, and V8 gives every literal whose accessor is a fresh closure a hidden class
 * of its own. Those hidden classes (and, through the closure, the request they were made for) lived until
 * the next full GC: ~1 MB promoted to the old generation per scavenge, 4–5 ms scavenges, and 53 vs 32 µs
 * of server CPU per request against a bare node:http handler that reads the body the same way
 * (bench/node-http.bench.mjs servers, `createNodeHandler` around a receive that only reads the body).
 */
class RequestBody implements AsyncIterable<Uint8Array>, AsyncIterator<Uint8Array> {
  /** True once the body deadline passed: the connection is not worth keeping. */
  timedOut = false;
  private first = true;
  private readonly deadline: number;

  constructor(
    private readonly req: IncomingMessage,
    private readonly timeoutMs: number,
  ) {
    this.deadline = performance.now() + timeoutMs;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const ready = poll(this.req);
    if (ready !== null) return Promise.resolve(ready);
    if (!this.first) return this.wait();
    this.first = false;
    // The first read runs inside the 'request' event, before Node's parser has pushed the body that
    // usually came in the same packet as the headers. The parser calls back into JavaScript once per
    // part (microtasks run in between), but it has pushed the whole packet by the event loop's next
    // check phase: look once more there before listening for 'readable'.
    return new Promise((resolve) => setImmediate(() => resolve(poll(this.req) ?? this.wait())));
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    this.req.destroy();
    return END;
  }

  private wait(): Promise<IteratorResult<Uint8Array>> {
    const { req, timeoutMs } = this;
    if (req.destroyed) return Promise.reject(closedEarly());
    return new Promise((resolve, reject) => {
      // 'readable' also fires at the end of the body, before 'end'; 'close' covers a destroyed request.
      const detach = () => {
        clearTimeout(timer);
        req.off("readable", settle).off("error", fail).off("close", settle);
      };
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
      const timer = setTimeout(() => {
        this.timedOut = true;
        fail(
          new WebhookError(
            "request_timeout",
            `The request body did not arrive in full within ${timeoutMs} ms.`,
          ),
        );
      }, this.deadline - performance.now());
      req.on("readable", settle).on("error", fail).on("close", settle);
    });
  }
}

/**
 * A `(req, res)` handler for Node's `http` servers (and frameworks built on them) that feeds each request
 * to `webhooks.receive` and writes the reply. Resolves once the reply is written.
 */
export function createNodeHandler<R extends IncomingMessage = IncomingMessage>(
  webhooks: Pick<Webhooks, "receive">,
  { rawBody, consumedBodyMessage = CONSUMED_BODY, bodyTimeoutMs, ...context }: NodeHandlerOptions<R> = {},
): (req: R, res: ServerResponse) => Promise<void> {
  const timeoutMs = integerOption(
    "createNodeHandler",
    "bodyTimeoutMs",
    bodyTimeoutMs,
    DEFAULT_BODY_TIMEOUT_MS,
  );
  return async (req, res) => {
    const header = (name: string) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    };
    const kept = rawBody?.(req);
    // A stream something else has read to its end has nothing left for us, whichever framework read it.
    const consumed = kept === false || (kept === undefined && req.readableEnded);
    const body = consumed || kept !== undefined ? null : new RequestBody(req, timeoutMs);
    const reply = await webhooks.receive(
      {
        method: req.method ?? "GET",
        header,
        body: body ?? (kept || null),
        bodyConsumed: consumed ? consumedBodyMessage : undefined,
      },
      context,
    );
    // Headers set one by one and no writeHead: `end` then adds Content-Length itself. (writeHead would
    // fix the head before the body is known, and Node would fall back to chunked encoding.)
    res.statusCode = reply.status;
    for (const name in reply.headers) res.setHeader(name, reply.headers[name]!);
    if (body?.timedOut) res.setHeader("connection", "close");
    res.end(reply.body);
  };
}
