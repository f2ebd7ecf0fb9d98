// The receiver: every HTTP decision of SPEC §3, made once in `receive` (method, headers and a raw body in;
// status, headers and JSON out). `handle` is `receive` for a Web `Request`; `@optare/webhooks/node` serves
// it on Node's `http`. Framework adapters only convert.

import { type BodySource, discardBody, readBody } from "./body";
import { digest } from "./crypto-node";
import { createDeadlines, type Deadlines } from "./deadlines";
import { asWebhookError, WebhookError, type WebhookErrorCode } from "./errors";
import {
  type ParseOptions,
  parseEvent,
  type ResolvedParseOptions,
  resolveParseOptions,
  signatureFailure,
  type WebhookEvent,
} from "./event";
import { type FailureFields, type Logger, resolveLogger } from "./log";
import { memoryStore } from "./memory-store";
import { configError, functionOption, integerOption, secretShapeWarning, secretsOption } from "./options";
import { processEvent } from "./process";
import { createRouter, type HandlerContext, type Router } from "./router";
import {
  DEFAULT_LEASE_MS,
  type EventQueue,
  type IdempotencyStore,
  OPTARE_RETRY_SPAN_MS,
  type TransactionalStore,
} from "./store";
import { type Secrets, SIGNATURE_HEADER } from "./verify";

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_ACK_TIMEOUT_MS = 25_000;
/** Optare gives up on an attempt after 30 s: the receiver must have answered by then. */
const SENDER_TIMEOUT_MS = 30_000;

/** The secret, or a function that returns it (or a promise of it) on the first request. */
export type SecretOption = Secrets | (() => Secrets | undefined | Promise<Secrets | undefined>);

export interface WebhooksOptions<S extends IdempotencyStore | false = IdempotencyStore | false>
  extends ParseOptions {
  /**
   * The endpoint secret (64 hex characters), or several while rotating. Pass a function,
   * `() => process.env.OPTARE_WEBHOOK_SECRET`, to read it on the first request instead of at start-up:
   * a build (`next build`, a Docker image) then needs no secret, and a missing one still fails loudly, as a
   * logged 500 `invalid_configuration` on every request until it is set. The result is cached once valid.
   */
  secret: SecretOption;
  /**
   * Where processed event ids are remembered. Default: `memoryStore()` (one process only). Use
   * `redisStore()` when several processes receive. `false` turns deduplication off (you dedupe yourself).
   */
  store?: S;
  /** Bodies larger than this get 413, checked on Content-Length and while reading. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Answer 503 (with `Retry-After`) when handlers are still running after this long; they keep running
   * and keep their lease, so the sender's retry sees the outcome. Default 25 s; at most 29.999 s, since
   * Optare gives up on an attempt after 30 s.
   */
  ackTimeoutMs?: number;
  /**
   * Queue mode (SPEC §8.3): hand every verified event to this queue — `bullmqQueue()` from
   * `@optare/webhooks-bullmq` — and answer 200 `{"received":true,"queued":true}` as soon as it holds it,
   * without running handlers; a worker runs them. The queue deduplicates (no `store` here: give it to the
   * worker). Unreachable: 503 `queue_unavailable`.
   */
  queue?: EventQueue;
  /**
   * Where failures and warnings go. Default: one line per failed request on stderr (4xx as warnings,
   * 5xx as errors with the stack of their cause). Pass a pino-style logger (`pino()`, or `console`) to
   * route them, or `false` to silence the receiver.
   */
  logger?: Logger | false;
  /** Called once per request with its outcome: wire it to your metrics. */
  log?: (entry: LogEntry) => void;
  /**
   * Traces and metrics, e.g. `otelTelemetry()` from `@optare/webhooks/otel` (OpenTelemetry). Nothing is
   * loaded or called when absent.
   */
  telemetry?: Telemetry;
}

export interface LogEntry {
  /** `processed`, `queued`, `duplicate`, or the error code the request was answered with. */
  outcome: "processed" | "queued" | "duplicate" | WebhookErrorCode;
  status: number;
  eventId?: string;
  eventType?: string;
  durationMs: number;
}

/** Instruments each delivery: a span that ends with the outcome. See `@optare/webhooks/otel`. */
export interface Telemetry {
  /** Called as a request starts. */
  start(): TelemetrySpan;
}

export interface TelemetrySpan {
  /** Runs the handlers inside the span, so spans they start are its children. */
  run<T>(work: () => Promise<T>): Promise<T>;
  /** Called once, with the outcome, and the error when the request failed. */
  end(entry: LogEntry, error?: WebhookError): void;
}

export type { ErrorContext, Handler, HandlerContext } from "./router";

/** Lets runtimes that freeze after the response (Workers, Vercel Edge) keep late work alive. */
export interface HandleContext {
  waitUntil?: (promise: Promise<unknown>) => void;
}

/**
 * A request as the core needs it, for transports that have no `Request` at hand (Node's `http`):
 * building one costs more than the rest of the pipeline. `handle` is `receive` for a `Request`.
 */
export interface WebhookRequest {
  method: string;
  /** A header by lower-case name. */
  header(name: string): string | null | undefined;
  /** The raw body: bytes, or chunks as they arrive (a Web stream, or a Node stream / async iterable). */
  body: BodySource;
  /**
   * Set by a transport that knows the raw body is gone (a body parser read it, the `Request` was already
   * read): what the developer should change. Answered 500 `raw_body_required` with this message.
   */
  bodyConsumed?: string;
}

/** The answer to write back: status, headers, and a JSON body. */
export interface WebhookReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * The receiver: a router (`on`, `onAny`, `onUnknown`, `onError`, and `dispatch` to run an event without
 * HTTP, e.g. a replay or a queue worker) with the HTTP entry points added.
 */
export interface Webhooks<C extends HandlerContext = HandlerContext> extends Router<C> {
  /** The Web-standard handler. Never throws: every outcome is a `Response`. */
  handle(request: Request, context?: HandleContext): Promise<Response>;
  /** `handle` without `Request`/`Response` objects, for adapters of other transports. Never throws. */
  receive(request: WebhookRequest, context?: HandleContext): Promise<WebhookReply>;
}

const JSON_HEADERS = { "content-type": "application/json" };
const RECEIVED = JSON.stringify({ received: true });
const DUPLICATE = JSON.stringify({ received: true, duplicate: true });
const QUEUED = JSON.stringify({ received: true, queued: true });

const REQUEST_ALREADY_READ =
  "The Request body was already read (e.g. `await request.json()` or `request.text()`) before " +
  "webhooks.handle(request), so the signed bytes are gone. Pass the untouched Request to handle(); to " +
  "look at the payload yourself, use the event your handler receives.";

function errorReply(error: WebhookError, headers?: Record<string, string>): WebhookReply {
  const body = JSON.stringify({ error: { code: error.code, message: error.message } });
  return { status: error.status, headers: { ...JSON_HEADERS, ...headers }, body };
}

function toResponse(reply: WebhookReply): Response {
  return new Response(reply.body, { status: reply.status, headers: reply.headers });
}

function retryAfter(ms: number): Record<string, string> {
  return { "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) };
}

/** What `work` resolves to, or "timeout" when it is still running at the deadline (it keeps running). */
function settledWithin<T>(work: Promise<T>, deadlines: Deadlines): Promise<T | "timeout"> {
  return new Promise((resolve, reject) => {
    const cancel = deadlines.add(() => resolve("timeout"));
    work.then(
      (value) => {
        cancel();
        resolve(value);
      },
      (error: unknown) => {
        cancel();
        reject(error);
      },
    );
  });
}

const OPTION_NAMES = new Set([
  "secret",
  "store",
  "maxBodyBytes",
  "ackTimeoutMs",
  "logger",
  "log",
  "telemetry",
  "queue",
  "maxEventAge",
  "maxFutureSkew",
  "now",
  "invalidData",
]);

function isStore(value: unknown): value is IdempotencyStore {
  const store = value as Partial<Record<keyof IdempotencyStore, unknown>> | null;
  return (
    typeof store === "object" &&
    store !== null &&
    ["claim", "complete", "release", "extend"].every(
      (name) => typeof store[name as "claim"] === "function",
    ) &&
    typeof store.leaseMs === "number" &&
    store.leaseMs > 0 &&
    typeof store.retentionMs === "number" &&
    store.retentionMs > 0
  );
}

function loggerOption(value: unknown): Logger | false | undefined {
  if (value === undefined || value === false) return value;
  const logger = value as Partial<Logger> | null;
  if (
    typeof logger === "object" &&
    logger !== null &&
    typeof logger.error === "function" &&
    typeof logger.warn === "function"
  ) {
    return logger as Logger;
  }
  throw configError(
    "createWebhooks",
    "logger must be an object with error() and warn() (pino, console), or false.",
  );
}

interface Config {
  queue: EventQueue | undefined;
  store: IdempotencyStore | false;
  maxBodyBytes: number;
  ackTimeoutMs: number;
  logger: Logger | undefined;
  log: ((entry: LogEntry) => void) | undefined;
  telemetry: Telemetry | undefined;
  parse: ResolvedParseOptions;
}

/** Every option checked at start-up, with a clear `invalid_configuration` error for a bad one. */
function readOptions(options: WebhooksOptions<IdempotencyStore | false>): Config {
  const where = "createWebhooks";
  if (typeof options !== "object" || options === null) {
    throw configError(where, "pass an options object: createWebhooks({ secret: … }).");
  }
  const logger = resolveLogger(loggerOption(options.logger));
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name))
      logger?.warn({ option: name }, `${where}: unknown option "${name}" is ignored.`);
  }
  if (
    options.store === null ||
    (options.store !== undefined && options.store !== false && !isStore(options.store))
  ) {
    throw configError(
      where,
      "store must be an idempotency store (memoryStore(), redisStore(…)), or false to turn deduplication off; " +
        `got ${options.store === null ? "null" : typeof options.store}.`,
    );
  }
  const queue = options.queue;
  if (queue !== undefined) {
    if (typeof queue?.enqueue !== "function" || !(queue.retentionMs > 0)) {
      throw configError(
        where,
        "queue must be an event queue, e.g. bullmqQueue() from @optare/webhooks-bullmq.",
      );
    }
    if (options.store !== undefined && options.store !== false) {
      throw configError(
        where,
        "in queue mode the queue deduplicates on the event id: give the store to the worker (createWorker) instead.",
      );
    }
  }
  const store = queue !== undefined ? false : options.store === undefined ? memoryStore() : options.store;
  const parse = resolveParseOptions(where, options);
  if (queue !== undefined && parse.maxEventAge > queue.retentionMs) {
    throw configError(
      where,
      `maxEventAge (${parse.maxEventAge} ms) exceeds how long the queue remembers events (${queue.retentionMs} ms); ` +
        "a captured request could be queued again after its job was removed.",
    );
  }
  if (store && parse.maxEventAge > store.retentionMs) {
    throw configError(
      where,
      `maxEventAge (${parse.maxEventAge} ms) exceeds the store's retention (${store.retentionMs} ms); ` +
        "a captured request could be replayed after its record expired. Lower maxEventAge or raise retentionMs.",
    );
  }
  const telemetry = options.telemetry;
  if (telemetry !== undefined && typeof telemetry?.start !== "function") {
    throw configError(
      where,
      "telemetry must have a start() method, e.g. otelTelemetry() from @optare/webhooks/otel.",
    );
  }
  return {
    queue,
    store,
    maxBodyBytes: integerOption(where, "maxBodyBytes", options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES),
    ackTimeoutMs: integerOption(where, "ackTimeoutMs", options.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS, {
      max: SENDER_TIMEOUT_MS - 1,
    }),
    logger,
    log: functionOption(where, "log", options.log),
    telemetry,
    parse,
  };
}

/**
 * What handlers get as their second argument with store `S`: the request, and with a transactional store
 * (`postgresStore({ transactional: true })`) the `transaction` the claim and the handlers share, typed
 * for the store's client.
 */
export type ContextOf<S> =
  S extends TransactionalStore<infer Tx> ? HandlerContext & { transaction: Tx } : HandlerContext;

/** Creates a receiver: register handlers with `on`, serve `handle` through an adapter or directly. */
export function createWebhooks<S extends IdempotencyStore | false = IdempotencyStore>(
  options: WebhooksOptions<S>,
): Webhooks<ContextOf<S>> {
  type C = ContextOf<S>;
  const { queue, store, maxBodyBytes, ackTimeoutMs, logger, log, telemetry, parse } = readOptions(options);
  const now = parse.now;
  const router = createRouter<C>();
  // One timer for every request's ack deadline (see deadlines.ts). Kept alive while one is pending, as a
  // plain setTimeout would: the 503 must be sent even when nothing else holds the process open.
  const ackDeadlines = createDeadlines(ackTimeoutMs, { keepAlive: true });

  // The secrets: checked now when given as a value; read on the first request when given as a function.
  let secrets: string[] | undefined;
  const adopt = (list: string[]) => {
    const warning = secretShapeWarning(list);
    if (warning !== null) logger?.warn({}, `createWebhooks: ${warning}`);
    secrets = list;
    return list;
  };
  const readSecret = typeof options.secret === "function" ? options.secret : undefined;
  /** The read in progress: concurrent first requests share it. */
  let loading: Promise<string[]> | undefined;
  function readSecrets(): Promise<string[]> {
    if (loading === undefined) {
      loading = loadSecrets().finally(() => {
        loading = undefined;
      });
    }
    return loading;
  }
  if (readSecret === undefined) adopt(secretsOption("createWebhooks", options.secret));
  async function loadSecrets(): Promise<string[]> {
    let value: unknown;
    try {
      value = await readSecret!();
    } catch (cause) {
      throw new WebhookError("invalid_configuration", "createWebhooks: the secret function threw.", {
        cause,
      });
    }
    // Not cached when invalid: every request fails loudly until the secret is there.
    return adopt(secretsOption("createWebhooks (secret function)", value));
  }

  /** Warns (at most every 10 minutes) when a bounded store can no longer vouch for Optare's retry span. */
  let horizonWarnedAt = Number.NEGATIVE_INFINITY;
  function checkHorizon(at: number): void {
    const horizon = store ? (store.horizon?.() ?? Number.NEGATIVE_INFINITY) : Number.NEGATIVE_INFINITY;
    if (at - horizon >= OPTARE_RETRY_SPAN_MS || at - horizonWarnedAt < 10 * 60_000) return;
    horizonWarnedAt = at;
    logger?.warn(
      { horizonAgeMs: Math.round(at - horizon) },
      `The idempotency store forgot an event from ${Math.round((at - horizon) / 60_000)} min ago to make room ` +
        "(memoryStore maxEntries). Retries of older events, which Optare sends for 81 min, are now refused " +
        "with 401. Raise maxEntries or use a shared store such as redisStore.",
    );
  }

  async function receive(request: WebhookRequest, handleContext?: HandleContext): Promise<WebhookReply> {
    const started = now();
    const span = telemetry?.start();
    let event: WebhookEvent | undefined;
    const finish = (reply: WebhookReply, outcome: LogEntry["outcome"], error?: WebhookError) => {
      if (log === undefined && span === undefined && error === undefined) return reply;
      const entry: LogEntry = {
        outcome,
        status: reply.status,
        eventId: event?.id,
        eventType: event?.event,
        durationMs: now() - started,
      };
      log?.(entry);
      span?.end(entry, error);
      if (error !== undefined) {
        const fields: FailureFields = { ...entry, code: error.code, err: error };
        if (entry.status >= 500) logger?.error(fields, error.message);
        else logger?.warn(fields, error.message);
        router.reportError(error, { request, event });
      }
      return reply;
    };
    const fail = (error: unknown, headers?: Record<string, string>) => {
      const known = asWebhookError(error);
      return finish(errorReply(known, headers), known.code, known);
    };
    const ok = (body: string, outcome: "processed" | "queued" | "duplicate") =>
      finish({ status: 200, headers: JSON_HEADERS, body }, outcome);
    const around = span ? (work: () => Promise<void>) => span.run(work) : undefined;

    try {
      if (request.method !== "POST") {
        discardBody(request.body);
        return fail(new WebhookError("method_not_allowed", "Only POST is accepted."), { allow: "POST" });
      }
      if (request.bodyConsumed !== undefined) {
        return fail(new WebhookError("raw_body_required", request.bodyConsumed));
      }
      const body = await readBody(request.body, request.header("content-length"), maxBodyBytes);
      const failure = signatureFailure(
        body,
        request.header(SIGNATURE_HEADER),
        secrets ?? (await readSecrets()),
      );
      if (failure !== null) return fail(failure);
      event = parseEvent(body, parse);
      const parsed = event;
      if (queue !== undefined) {
        let queued: Awaited<ReturnType<EventQueue["enqueue"]>>;
        try {
          queued = await queue.enqueue(parsed, body, digest(body));
        } catch (cause) {
          return fail(
            WebhookError.is(cause)
              ? cause
              : new WebhookError("queue_unavailable", "The event queue is unavailable.", { cause }),
          );
        }
        if (queued === "conflict") {
          return fail(
            new WebhookError("event_conflict", "This event id was already received with a different body."),
          );
        }
        return queued === "queued" ? ok(QUEUED, "queued") : ok(DUPLICATE, "duplicate");
      }
      const context = { request } as C;
      const work = processEvent(router, parsed, body, context, { store, around });
      const settled = await settledWithin(work, ackDeadlines);
      if (settled === "timeout") {
        const late = work.catch((error: unknown) => {
          const known = asWebhookError(error);
          logger?.error(
            { code: known.code, eventId: parsed.id, eventType: parsed.event, err: known },
            `Late failure after the ack deadline: ${known.message}`,
          );
          router.reportError(known, { request, event: parsed });
        });
        handleContext?.waitUntil?.(late);
        return fail(
          new WebhookError(
            "handler_timeout",
            "Handlers are still running; the retry will see their outcome.",
          ),
          retryAfter(store ? store.leaseMs : DEFAULT_LEASE_MS),
        );
      }
      switch (settled.status) {
        case "duplicate":
          return ok(DUPLICATE, "duplicate");
        case "conflict":
          return fail(
            new WebhookError("event_conflict", "This event id was already received with a different body."),
          );
        case "in_progress":
          return fail(
            new WebhookError(
              "event_in_progress",
              "This event is being processed by another request; retry later.",
            ),
            retryAfter(settled.retryAfterMs),
          );
      }
      if (store && store.horizon !== undefined) checkHorizon(now());
      return ok(RECEIVED, "processed");
    } catch (error) {
      return fail(error);
    }
  }

  // The receiver is its router with HTTP added: `on` and the others chain on it.
  const webhooks: Webhooks<C> = Object.assign(router, {
    receive,
    async handle(request: Request, context?: HandleContext): Promise<Response> {
      const headers = request.headers;
      const input: WebhookRequest = {
        method: request.method,
        header: (name: string) => headers.get(name),
        body: request.body,
        bodyConsumed: request.bodyUsed ? REQUEST_ALREADY_READ : undefined,
      };
      return toResponse(await receive(input, context));
    },
  });
  return webhooks;
}
