// How one attempt's POST goes over the wire. Default: undici's dispatcher API on keep-alive connection
// pools, which on Node 20 delivers ~1.3× the throughput of node:http's `http.request` and several
// times that of the global fetch (see bench/sender.bench.mjs). A custom `fetch` can be injected
// instead. Neither follows redirects.
import { Agent, type Dispatcher } from "undici";

/** A response, with the body cut to the caller's limit. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  location: string | null;
  body: string;
}

/** No complete response within the attempt's timeout. */
export class AttemptTimeout extends Error {}

export interface Transport {
  /** Rejects with `AttemptTimeout` on timeout and with the client's error on a network failure. */
  post(
    url: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
    bodyLimit: number,
  ): Promise<HttpAnswer>;
  /** Frees pooled connections. */
  close(): void;
}

function decode(chunks: Uint8Array[], limit: number): string {
  // One chunk is the common case (a small body): decode it in place, without a copy.
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(limit, bytes.byteLength)).toString("utf8");
}

interface Target {
  origin: string;
  path: string;
}

/** Errors meaning "the connection closed before any response": a pooled socket the server had just closed. */
const CLOSED_BEFORE_RESPONSE = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

/**
 * One attempt: the dispatch handler and the promise it settles, in one object (no closures per
 * request). Settles once, on the first of: response end, body limit, error, timeout.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private responded = false;
  private settled = false;
  private status = 0;
  private statusText = "";
  private location: string | null = null;
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly resolve: (answer: HttpAnswer | Promise<HttpAnswer>) => void,
    private readonly reject: (error: unknown) => void,
    private readonly limit: number,
    deadline: number,
    /** Called instead of failing when the connection closed before any response; null: no resend. */
    private readonly resend: (() => Promise<HttpAnswer>) | null,
  ) {
    // Whole milliseconds: Node keeps one timer list per distinct duration, and a fractional
    // remainder would give every request a list of its own.
    this.timer = setTimeout(expire, Math.max(1, Math.ceil(deadline - performance.now())), this);
  }

  expire(): void {
    const timeout = new AttemptTimeout();
    this.fail(timeout);
    this.controller?.abort(timeout);
  }

  /** True the first time only: the caller settles the promise. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    return true;
  }

  private succeed(): void {
    if (!this.settle()) return;
    this.resolve({
      status: this.status,
      statusText: this.statusText,
      location: this.location,
      body: decode(this.chunks, this.limit),
    });
  }

  fail(error: unknown): void {
    if (this.settle()) this.reject(error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(new AttemptTimeout()); // Timed out while waiting for a connection.
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return; // 1xx informational: the real head follows.
    this.responded = true;
    this.status = statusCode;
    this.statusText = statusMessage ?? "";
    const location = headers.location;
    this.location = (Array.isArray(location) ? location[0] : location) ?? null;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size > this.limit && !this.settled) {
      // Enough for the record: stop downloading (this connection is not reused).
      this.succeed();
      controller.abort(new Error("response body limit reached"));
    }
  }

  onResponseEnd(): void {
    this.succeed();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    const code = (error as NodeJS.ErrnoException).code;
    if (this.resend !== null && !this.responded && code !== undefined && CLOSED_BEFORE_RESPONSE.has(code)) {
      // A keep-alive connection the server closed while idle, just as this request went out: the
      // one case worth an immediate resend (receivers deduplicate by event id if it did arrive).
      if (this.settle()) this.resolve(this.resend());
      return;
    }
    this.fail(error);
  }
}

function expire(exchange: Exchange): void {
  exchange.expire();
}

/** undici connection pools (one per origin, kept alive), at most `connections` sockets per origin. */
export function createUndiciTransport(connections: number, timeoutMs: number): Transport {
  const agent = new Agent({
    connections,
    // The attempt's own deadline covers the whole exchange; undici's per-phase timers would only
    // cut it short with a different error. Connecting gets the same budget.
    headersTimeout: 0,
    bodyTimeout: 0,
    connectTimeout: timeoutMs,
  });
  // Parsed endpoint URLs.
  const targets = new Map<string, Target>();

  function targetOf(url: string): Target {
    let target = targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (targets.size >= 1024) targets.clear();
      targets.set(url, target);
    }
    return target;
  }

  function send(
    target: Target,
    body: string,
    headers: string[],
    deadline: number,
    limit: number,
    mayResend: boolean,
  ): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const resend = mayResend ? () => send(target, body, headers, deadline, limit, false) : null;
      const exchange = new Exchange(resolve, reject, limit, deadline, resend);
      try {
        agent.dispatch({ origin: target.origin, path: target.path, method: "POST", headers, body }, exchange);
      } catch (error) {
        exchange.fail(error);
      }
    });
  }

  return {
    post(url, body, headers, timeout, bodyLimit) {
      // A flat [name, value, …] list: undici takes it as is, without walking an object.
      const list: string[] = [];
      for (const name in headers) list.push(name, headers[name]!);
      return send(targetOf(url), body, list, performance.now() + timeout, bodyLimit, true);
    },
    close() {
      void agent.destroy().catch(() => {});
    },
  };
}

/** Any `fetch` implementation (`redirect: "manual"`, aborted at the timeout). */
export function createFetchTransport(fetchImpl: typeof globalThis.fetch): Transport {
  async function readBody(response: Response, limit: number): Promise<string> {
    if (response.body === null) return "";
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        break;
      }
    }
    return decode(chunks, limit);
  }

  return {
    async post(url, body, headers, timeoutMs, bodyLimit) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        const response = await fetchImpl(url, {
          method: "POST",
          headers,
          body,
          redirect: "manual",
          signal: controller.signal,
        });
        return {
          status: response.status,
          statusText: response.statusText,
          location: response.headers.get("location"),
          body: await readBody(response, bodyLimit),
        };
      } catch (error) {
        throw controller.signal.aborted ? new AttemptTimeout() : error;
      } finally {
        clearTimeout(timer);
      }
    },
    close() {},
  };
}
