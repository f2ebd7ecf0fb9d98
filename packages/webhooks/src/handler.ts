// The receiver: every HTTP decision of SPEC §3, made once in `receive` (method, headers and a raw body in;
// status, headers and JSON out). `handle` is `receive` for a Web `Request`; `@optare/webhooks/node` serves
// it on Node's `http`. Framework adapters only convert.

import { type BodySource, discardBody, readBody } from "./body";
import { type EventType, isEventType } from "./catalog";
import { digest } from "./crypto-node";
import { WebhookError, type WebhookErrorCode } from "./errors";
import {
  DEFAULT_MAX_EVENT_AGE,
  type OptareEvent,
  type ParseOptions,
  parseEvent,
  signatureFailure,
  type UnknownEvent,
  type WebhookEvent,
} from "./event";
import { memoryStore } from "./memory-store";
import type { IdempotencyStore } from "./store";
import { type Secrets, SIGNATURE_HEADER, secretList } from "./verify";

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_ACK_TIMEOUT_MS = 25_000;

export interface WebhooksOptions extends Omit<ParseOptions, "now"> {
  /** The endpoint secret, or several while rotating. */
  secret: Secrets;
  /**
   * Where processed event ids are remembered. Default: `memoryStore()` (one process only). Use
   * `redisStore()` when several processes receive. `false` turns deduplication off (you dedupe yourself).
   */
  store?: IdempotencyStore | false;
  /** Bodies larger than this get 413, checked on Content-Length and while reading. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Answer 503 (with `Retry-After`) when handlers are still running after this long; they keep running
   * and keep their lease, so the sender's retry sees the outcome. Default 25 s (Optare waits 30 s).
   */
  ackTimeoutMs?: number;
  /** The clock, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /** Called once per request with its outcome: wire it to your logger or metrics. */
  log?: (entry: LogEntry) => void;
}

export interface LogEntry {
  /** `processed`, `duplicate`, or the error code the request was answered with. */
  outcome: "processed" | "duplicate" | WebhookErrorCode;
  status: number;
  eventId?: string;
  eventType?: string;
  durationMs: number;
}

export interface HandlerContext {
  /** The request being handled (method and headers; its body has been read already). */
  request: WebhookRequest;
}

export type Handler<E> = (event: E, context: HandlerContext) => unknown;

export interface ErrorContext {
  request: WebhookRequest;
  event?: WebhookEvent;
}

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
}

/** The answer to write back: status, headers, and a JSON body. */
export interface WebhookReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface Webhooks {
  /** Runs `handler` for events of `type` (or any of `types`), typed by the event. */
  on<T extends EventType>(type: T | readonly T[], handler: Handler<OptareEvent<T>>): Webhooks;
  /** Runs `handler` for every event, known or not, after the type-specific handlers. */
  onAny(handler: Handler<WebhookEvent>): Webhooks;
  /** Runs `handler` for event types this SDK version does not know. They are acknowledged with 200. */
  onUnknown(handler: Handler<UnknownEvent>): Webhooks;
  /** Called when a handler throws or the store fails: the request is answered 500/503 and retried. */
  onError(handler: (error: WebhookError, context: ErrorContext) => void): Webhooks;
  /** The Web-standard handler. Never throws: every outcome is a `Response`. */
  handle(request: Request, context?: HandleContext): Promise<Response>;
  /** `handle` without `Request`/`Response` objects, for adapters of other transports. Never throws. */
  receive(request: WebhookRequest, context?: HandleContext): Promise<WebhookReply>;
}

const JSON_HEADERS = { "content-type": "application/json" };
const RECEIVED = JSON.stringify({ received: true });
const DUPLICATE = JSON.stringify({ received: true, duplicate: true });

/** `error` itself when it is a `WebhookError`; anything else is an `internal_error` carrying it. */
function asWebhookError(error: unknown): WebhookError {
  return WebhookError.is(error)
    ? error
    : new WebhookError("internal_error", "Unexpected error in the webhook receiver.", { cause: error });
}

function errorReply(error: unknown, headers?: Record<string, string>): WebhookReply {
  const known = asWebhookError(error);
  const body = JSON.stringify({ error: { code: known.code, message: known.message } });
  return { status: known.status, headers: { ...JSON_HEADERS, ...headers }, body };
}

function toResponse(reply: WebhookReply): Response {
  return new Response(reply.body, { status: reply.status, headers: reply.headers });
}

/** The `{"error":{"code","message"}}` response for an error; its status comes from the code. */
export function errorResponse(error: unknown, headers: Record<string, string> = {}): Response {
  return toResponse(errorReply(error, headers));
}

function retryAfter(ms: number): Record<string, string> {
  return { "retry-after": String(Math.max(1, Math.ceil(ms / 1000))) };
}

function storeError(cause: unknown): WebhookError {
  return WebhookError.is(cause)
    ? cause
    : new WebhookError("store_unavailable", "The idempotency store is unavailable.", { cause });
}

/** "done" when `work` resolves, "timeout" when it is still running after `ms` (it keeps running). */
function settledWithin(work: Promise<void>, ms: number): Promise<"done" | "timeout"> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms, "timeout");
    work.then(
      () => {
        clearTimeout(timer);
        resolve("done");
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Creates a receiver: register handlers with `on`, serve `handle` through an adapter or directly. */
export function createWebhooks(options: WebhooksOptions): Webhooks {
  const secrets = secretList(options.secret);
  if (secrets.length === 0) {
    throw new WebhookError(
      "invalid_configuration",
      "createWebhooks: `secret` is empty. Pass the endpoint secret, e.g. process.env.OPTARE_WEBHOOK_SECRET.",
    );
  }
  const store = options.store === undefined ? memoryStore() : options.store;
  const maxEventAge = options.maxEventAge ?? DEFAULT_MAX_EVENT_AGE;
  if (store && maxEventAge > store.retentionMs) {
    throw new WebhookError(
      "invalid_configuration",
      `createWebhooks: maxEventAge (${maxEventAge} ms) exceeds the store's retention (${store.retentionMs} ms); ` +
        "a captured request could be replayed after its record expired. Lower maxEventAge or raise retentionMs.",
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const parseOptions: ParseOptions = { ...options, maxEventAge, now };

  const typed = new Map<string, Handler<never>[]>();
  const anyHandlers: Handler<WebhookEvent>[] = [];
  const unknownHandlers: Handler<UnknownEvent>[] = [];
  const errorHandlers: ((error: WebhookError, context: ErrorContext) => void)[] = [];

  function reportError(error: WebhookError, context: ErrorContext): void {
    for (const handler of errorHandlers) {
      try {
        handler(error, context);
      } catch {
        // An error hook must not turn an answered request into a crash.
      }
    }
  }

  async function dispatch(event: WebhookEvent, context: HandlerContext): Promise<void> {
    const handlers = isEventType(event.event) ? (typed.get(event.event) ?? []) : unknownHandlers;
    for (const handler of handlers) await (handler as Handler<WebhookEvent>)(event, context);
    for (const handler of anyHandlers) await handler(event, context);
  }

  /** Runs the handlers while holding the claim, extending its lease until they settle. */
  async function run(event: WebhookEvent, token: string, context: HandlerContext): Promise<void> {
    if (!store) return dispatch(event, context);
    let heartbeat: ReturnType<typeof setTimeout> | undefined;
    const beat = () => {
      heartbeat = setTimeout(() => {
        // Keep beating through a failed extend: a short store outage must not let the lease lapse.
        store.extend(event.id, token).then(beat, beat);
      }, store.leaseMs / 2);
      (heartbeat as { unref?: () => void }).unref?.();
    };
    beat();
    try {
      await dispatch(event, context);
    } catch (cause) {
      clearTimeout(heartbeat);
      await store.release(event.id, token).catch(() => {});
      throw new WebhookError("handler_failed", "A handler failed; the event was released for the retry.", {
        cause,
      });
    }
    clearTimeout(heartbeat);
    try {
      await store.complete(event.id, token);
    } catch (cause) {
      throw storeError(cause);
    }
  }

  async function receive(request: WebhookRequest, handleContext?: HandleContext): Promise<WebhookReply> {
    const started = now();
    let event: WebhookEvent | undefined;
    const finish = (reply: WebhookReply, outcome: LogEntry["outcome"]) => {
      options.log?.({
        outcome,
        status: reply.status,
        eventId: event?.id,
        eventType: event?.event,
        durationMs: now() - started,
      });
      return reply;
    };
    const fail = (error: unknown, headers?: Record<string, string>) => {
      const known = asWebhookError(error);
      const reply = errorReply(known, headers);
      if (reply.status >= 500) reportError(known, { request, event });
      return finish(reply, known.code);
    };
    const ok = (body: string, outcome: "processed" | "duplicate") =>
      finish({ status: 200, headers: JSON_HEADERS, body }, outcome);

    try {
      if (request.method !== "POST") {
        discardBody(request.body);
        return fail(new WebhookError("method_not_allowed", "Only POST is accepted."), { allow: "POST" });
      }
      const body = await readBody(request.body, request.header("content-length"), maxBodyBytes);
      const failure = signatureFailure(body, request.header(SIGNATURE_HEADER), secrets);
      if (failure !== null) return fail(failure);
      event = parseEvent(body, parseOptions);
      const context: HandlerContext = { request };
      if (!store) {
        await dispatch(event, context).catch((cause) => {
          throw new WebhookError("handler_failed", "A handler failed.", { cause });
        });
        return ok(RECEIVED, "processed");
      }

      let claim: Awaited<ReturnType<IdempotencyStore["claim"]>>;
      try {
        claim = await store.claim(event.id, digest(body));
      } catch (cause) {
        return fail(storeError(cause));
      }
      if (claim.status !== "claimed") {
        if (!claim.sameBody) {
          return fail(
            new WebhookError("event_conflict", "This event id was already received with a different body."),
          );
        }
        if (claim.status === "completed") return ok(DUPLICATE, "duplicate");
        return fail(
          new WebhookError(
            "event_in_progress",
            "This event is being processed by another request; retry later.",
          ),
          retryAfter(claim.retryAfterMs),
        );
      }

      const work = run(event, claim.token, context);
      if ((await settledWithin(work, ackTimeoutMs)) === "timeout") {
        const late = work.catch((error: WebhookError) => reportError(error, { request, event }));
        handleContext?.waitUntil?.(late);
        return fail(
          new WebhookError(
            "handler_timeout",
            "Handlers are still running; the retry will see their outcome.",
          ),
          retryAfter(store.leaseMs),
        );
      }
      return ok(RECEIVED, "processed");
    } catch (error) {
      return fail(error);
    }
  }

  const webhooks: Webhooks = {
    on(type, handler) {
      for (const name of typeof type === "string" ? [type] : type) {
        const list = typed.get(name) ?? [];
        list.push(handler as Handler<never>);
        typed.set(name, list);
      }
      return webhooks;
    },
    onAny(handler) {
      anyHandlers.push(handler);
      return webhooks;
    },
    onUnknown(handler) {
      unknownHandlers.push(handler);
      return webhooks;
    },
    onError(handler) {
      errorHandlers.push(handler);
      return webhooks;
    },
    receive,
    async handle(request, context) {
      const headers = request.headers;
      const input = {
        method: request.method,
        header: (name: string) => headers.get(name),
        body: request.body,
      };
      return toResponse(await receive(input, context));
    },
  };
  return webhooks;
}
