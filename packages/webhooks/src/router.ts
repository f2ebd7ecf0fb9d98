// The typed router (SPEC §8.1): handler registrations and their dispatch, with no HTTP in sight. The
// receiver runs it for each verified delivery; a queue worker or a replay of a stored event can run the
// very same registrations.
import { type EventType, isEventType } from "./catalog";
import type { WebhookError } from "./errors";
import type { OptareEvent, UnknownEvent, WebhookEvent } from "./event";
import type { WebhookRequest } from "./receiver";

export interface HandlerContext {
  /** The HTTP request that delivered the event (its body has been read). Absent on a replay or in a worker. */
  request?: WebhookRequest;
}

export type Handler<E, C extends HandlerContext = HandlerContext> = (event: E, context: C) => unknown;

export interface ErrorContext {
  /** The request that failed, when the failure came over HTTP. */
  request?: WebhookRequest;
  /** The event, when it was verified and parsed before the failure. */
  event?: WebhookEvent;
}

export type ErrorHandler = (error: WebhookError, context: ErrorContext) => void;

/** The registrations: what `createWebhooks()` returns, minus HTTP. Every method returns the router. */
export interface Registrations<C extends HandlerContext = HandlerContext> {
  /** Runs `handler` for events of `type` (or any of `types`), typed by the event. */
  on<T extends EventType>(type: T | readonly T[], handler: Handler<OptareEvent<T>, C>): this;
  /** Runs `handler` for every event, known or not, after the type-specific handlers. */
  onAny(handler: Handler<WebhookEvent, C>): this;
  /** Runs `handler` for event types this SDK version does not know. They are acknowledged with 200. */
  onUnknown(handler: Handler<UnknownEvent, C>): this;
  /**
   * Called with every failure, whatever its class: a bad signature (401), a stale event, a handler that
   * threw (500), a store outage (503)… The error's `code` and `status` say which. A hook that throws is
   * ignored.
   */
  onError(handler: ErrorHandler): this;
}

export interface Router<C extends HandlerContext = HandlerContext> extends Registrations<C> {
  /** Runs the handlers registered for `event`: its type's (or `onUnknown`'s), then `onAny`'s, in order. */
  dispatch(event: WebhookEvent, context: C): Promise<void>;
  /** Tells every `onError` hook; never throws. */
  reportError(error: WebhookError, context: ErrorContext): void;
}

/** A router on its own: register handlers, then `dispatch` events to them (e.g. replayed from storage). */
export function createRouter<C extends HandlerContext = HandlerContext>(): Router<C> {
  const typed = new Map<string, Handler<never, C>[]>();
  const anyHandlers: Handler<WebhookEvent, C>[] = [];
  const unknownHandlers: Handler<UnknownEvent, C>[] = [];
  const errorHandlers: ErrorHandler[] = [];

  const router: Router<C> = {
    on(type, handler) {
      for (const name of typeof type === "string" ? [type] : type) {
        const list = typed.get(name) ?? [];
        list.push(handler as Handler<never, C>);
        typed.set(name, list);
      }
      return this;
    },
    onAny(handler) {
      anyHandlers.push(handler);
      return this;
    },
    onUnknown(handler) {
      unknownHandlers.push(handler);
      return this;
    },
    onError(handler) {
      errorHandlers.push(handler);
      return this;
    },
    async dispatch(event, context) {
      const handlers = isEventType(event.event) ? (typed.get(event.event) ?? []) : unknownHandlers;
      for (const handler of handlers) await (handler as Handler<WebhookEvent, C>)(event, context);
      for (const handler of anyHandlers) await handler(event, context);
    },
    reportError(error, context) {
      for (const handler of errorHandlers) {
        try {
          handler(error, context);
        } catch {
          // An error hook must not turn an answered request into a crash.
        }
      }
    },
  };
  return router;
}
