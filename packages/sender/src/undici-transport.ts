// The default transport: undici's dispatcher API on keep-alive connection pools. Receipt
// (bench/sender.bench.mjs, 16 concurrent, loopback): the raw undici loop ran at 1.06–1.37× the raw
// node:http `http.request` loop in 5 of 6 runs on the 2-core development machine (0.74× in one
// disturbed run), and several times a `fetch` loop.
//
// SPEC §9 allows one resend, and only for a request written to a *reused* keep-alive socket that the
// peer closed before any response byte (the server timed the idle connection out as the request went
// out). undici does not say whether a socket was reused, so each pool's clients count it: an undici
// `Client` holds one socket at a time and emits "connect" for each new one before writing to it.
import { isIPv6 } from "node:net";
import { Agent, buildConnector, Client, type Dispatcher, Pool } from "undici";
import { AttemptTimeout, decode, type HttpAnswer, type Transport } from "./transport";

export interface UndiciTransportOptions {
  /** Sockets per origin (one origin per checked address when the SSRF guard pins it). */
  connections: number;
  /** Connect timeout, in ms. */
  timeoutMs: number;
  /** Opens sockets. Default `buildConnector({ timeout: timeoutMs })`; tests pass one that observes them. */
  connect?: buildConnector.connector;
}

const EXCHANGE = Symbol("exchange");

type ExchangeOptions = Dispatcher.DispatchOptions & { [EXCHANGE]: Exchange };

/** An undici `Client` that counts the requests written to its current socket. */
class CountingClient extends Client {
  written = 0;

  constructor(origin: URL, options: Client.Options) {
    super(origin, options);
    this.on("connect", () => {
      this.written = 0;
    });
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const exchange = (options as Partial<ExchangeOptions>)[EXCHANGE];
    if (exchange !== undefined) exchange.client = this;
    return super.dispatch(options, handler);
  }
}

/** Errors meaning "the connection closed before any response". */
const CLOSED_BEFORE_RESPONSE = new Set(["UND_ERR_SOCKET", "ECONNRESET", "EPIPE"]);

/**
 * One attempt: the dispatch handler and the promise it settles. Settles once, on the first of:
 * response end, body limit, error, timeout.
 */
class Exchange implements Dispatcher.DispatchHandler {
  /** The client the request was queued on (set by `CountingClient.dispatch`). */
  client: CountingClient | null = null;
  private options: ExchangeOptions | null = null;
  private controller: Dispatcher.DispatchController | null = null;
  private reused = false;
  private resent = false;
  private responded = false;
  private settled = false;
  private status = 0;
  private statusText = "";
  private location: string | null = null;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly agent: Dispatcher,
    private readonly resolve: (answer: HttpAnswer) => void,
    private readonly reject: (error: unknown) => void,
    private readonly limit: number,
    timeoutMs: number,
  ) {
    this.timer = setTimeout(() => {
      const timeout = new AttemptTimeout();
      this.fail(timeout);
      this.controller?.abort(timeout);
    }, timeoutMs);
  }

  send(options: ExchangeOptions): void {
    this.options = options;
    try {
      this.agent.dispatch(options, this);
    } catch (error) {
      this.fail(error);
    }
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.reject(error);
  }

  private succeed(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const { status, statusText, location } = this;
    this.resolve({ status, statusText, location, body: decode(this.chunks, this.limit) });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) {
      controller.abort(new AttemptTimeout()); // Timed out while waiting for a connection.
      return;
    }
    // Called as the request is written to the client's current socket.
    this.reused = this.client !== null && this.client.written++ > 0;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    this.responded = true;
    if (statusCode < 200) return; // 1xx informational: the real head follows.
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
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (this.reused && !this.responded && !this.resent && !this.settled && CLOSED_BEFORE_RESPONSE.has(code)) {
      // The one resend SPEC §9 allows; receivers deduplicate by event id if the first copy did arrive.
      this.resent = true;
      this.client = null;
      this.controller = null;
      this.send(this.options!);
      return;
    }
    this.fail(error);
  }
}

/**
 * undici connection pools (one per origin, kept alive), at most `connections` sockets per origin.
 * When the request carries a checked `address`, the pool's origin is that address and the URL's host
 * travels as the Host header, which undici also uses for TLS SNI and the certificate check.
 */
export function createUndiciTransport(options: UndiciTransportOptions): Transport {
  const agent = new Agent({
    connections: options.connections,
    // The attempt's own timer covers the whole exchange; undici's per-phase timers would only cut it
    // short with a different error.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: options.connect ?? buildConnector({ timeout: options.timeoutMs }),
    factory: (origin, poolOptions) =>
      new Pool(origin, {
        ...poolOptions,
        factory: (url, clientOptions) => new CountingClient(url, clientOptions as Client.Options),
      }),
  });

  return {
    post({ url, address, body, headers, timeoutMs, bodyLimit }) {
      return new Promise((resolve, reject) => {
        const target = new URL(url); // Throwing here rejects the promise.
        let origin = target.origin;
        if (address !== null) {
          const host = isIPv6(address) ? `[${address}]` : address;
          origin = `${target.protocol}//${host}${target.port === "" ? "" : `:${target.port}`}`;
          headers = { ...headers, host: target.host };
        }
        const path = `${target.pathname}${target.search}`;
        const exchange = new Exchange(agent, resolve, reject, bodyLimit, timeoutMs);
        exchange.send({ origin, path, method: "POST", headers, body, [EXCHANGE]: exchange });
      });
    },
    close() {
      return agent.destroy().catch(() => {});
    },
  };
}
