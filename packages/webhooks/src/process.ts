// Running one verified event through the router under the store's claim rules (SPEC §4): claim, run the
// handlers while holding the claim, complete or release. The HTTP receiver uses it, and so can anything
// else that holds a verified event: a replay from an event log, a queue worker.
import type { Bytes } from "./crypto-node";
import { digest } from "./crypto-node";
import { createDeadlines, type Deadlines } from "./deadlines";
import { WebhookError } from "./errors";
import { timeOf, type WebhookEvent } from "./event";
import type { HandlerContext, Router } from "./router";
import {
  type ClaimDetails,
  type EventError,
  type IdempotencyStore,
  isTransactionalStore,
  localStoreOf,
  type Unclaimed,
} from "./store";

/** What became of an event: run now, run before, running elsewhere, or another body under its id. */
export type ProcessOutcome =
  | { readonly status: "processed" }
  | { readonly status: "duplicate" }
  | { readonly status: "in_progress"; readonly retryAfterMs: number }
  | { readonly status: "conflict" };

export interface ProcessOptions {
  /** Where claims live; `false` runs the handlers with no deduplication. */
  store: IdempotencyStore | false;
  /** Wraps the handlers' run (a telemetry span). */
  around?: (work: () => Promise<void>) => Promise<void>;
}

/**
 * A store failure as reported: the store's own `WebhookError` as is, anything else a 503 whose message
 * names no client internals (hosts, ports); the original stays on `cause` for the log.
 */
export function storeError(cause: unknown): WebhookError {
  return WebhookError.is(cause)
    ? cause
    : new WebhookError("store_unavailable", "The idempotency store is unavailable.", { cause });
}

function handlerFailed(cause: unknown): WebhookError {
  return new WebhookError("handler_failed", "A handler failed; the event was released for the retry.", {
    cause,
  });
}

/** A failure as an event log keeps it: the code, and the handler's own error rather than our wrapper. */
export function eventErrorOf(error: WebhookError): EventError {
  const cause = error.cause;
  const message = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause ?? error.message);
  return { code: error.code, message: message.slice(0, 2000) };
}

/** Each store's heartbeats (extend the lease every `leaseMs / 2`) on one timer; see deadlines.ts. */
const heartbeatQueues = new WeakMap<IdempotencyStore, Deadlines>();
function heartbeatsOf(store: IdempotencyStore): Deadlines {
  let queue = heartbeatQueues.get(store);
  if (queue === undefined) {
    queue = createDeadlines(store.leaseMs / 2, { keepAlive: false });
    heartbeatQueues.set(store, queue);
  }
  return queue;
}

const PROCESSED: ProcessOutcome = Object.freeze({ status: "processed" });
const DUPLICATE: ProcessOutcome = Object.freeze({ status: "duplicate" });
const CONFLICT: ProcessOutcome = Object.freeze({ status: "conflict" });
const runDirectly = (work: () => Promise<void>) => work();

/**
 * Runs `event`'s handlers once under `store`'s claim. Resolves with the outcome; rejects with a
 * `WebhookError`: `handler_failed` (the claim was released, so a later delivery runs them again; its
 * `cause` is the handler's error), or the store's failure (`store_unavailable`, `event_too_old`).
 * With a transactional store the claim, the handlers (given `context.transaction`) and the completion
 * share one transaction.
 */
export async function processEvent<C extends HandlerContext>(
  router: Pick<Router<C>, "dispatch">,
  event: WebhookEvent,
  body: Bytes,
  context: C,
  { store, around = runDirectly }: ProcessOptions,
): Promise<ProcessOutcome> {
  if (!store) {
    await around(() => router.dispatch(event, context)).catch((cause) => {
      throw handlerFailed(cause);
    });
    return PROCESSED;
  }
  const bodyHash = digest(body);
  const eventTime = timeOf(event.timestamp);

  const local = localStoreOf(store);
  if (local !== undefined) {
    // memoryStore: claimed and completed synchronously, held with no lease to keep alive (see LOCAL_STORE).
    let hold: ReturnType<typeof local.claim>;
    try {
      hold = local.claim(event.id, bodyHash, eventTime);
    } catch (cause) {
      throw storeError(cause);
    }
    if ("status" in hold) return settled(hold);
    try {
      await around(() => router.dispatch(event, context));
    } catch (cause) {
      local.release(hold);
      throw handlerFailed(cause);
    }
    local.complete(hold);
    return PROCESSED;
  }

  const details: ClaimDetails = { eventTime, eventType: event.event, body };

  if (isTransactionalStore(store)) {
    let failure: WebhookError | undefined;
    let result: Awaited<ReturnType<typeof store.runInTransaction>>;
    try {
      result = await store.runInTransaction(event.id, bodyHash, details, (transaction) =>
        around(() => router.dispatch(event, { ...context, transaction })).catch((cause) => {
          failure = handlerFailed(cause);
          throw failure;
        }),
      );
    } catch (error) {
      throw failure ?? storeError(error);
    }
    return settled(result);
  }

  let claim: Awaited<ReturnType<IdempotencyStore["claim"]>>;
  try {
    claim = await store.claim(event.id, bodyHash, details);
  } catch (cause) {
    throw storeError(cause);
  }
  if (claim.status !== "claimed") return settled(claim);

  const { token } = claim;
  const heartbeats = heartbeatsOf(store);
  let stopped = false;
  let stopBeating: () => void;
  const beat = () => {
    if (stopped) return; // An extend still in flight when the handlers finished.
    stopBeating = heartbeats.add(() => {
      // Keep beating through a failed extend: a short store outage must not let the lease lapse.
      store.extend(event.id, token).then(beat, beat);
    });
  };
  const stop = () => {
    stopped = true;
    stopBeating();
  };
  beat();
  try {
    await around(() => router.dispatch(event, context));
  } catch (cause) {
    stop();
    const failure = handlerFailed(cause);
    await store.release(event.id, token, eventErrorOf(failure)).catch(() => {});
    throw failure;
  }
  stop();
  try {
    await store.complete(event.id, token);
  } catch (cause) {
    throw storeError(cause);
  }
  return PROCESSED;
}

/** The outcome of a claim that was not won (or a transaction that ran). */
function settled(claim: { readonly status: "processed" } | Unclaimed): ProcessOutcome {
  if (claim.status === "processed") return claim;
  if (!claim.sameBody) return CONFLICT;
  if (claim.status === "completed") return DUPLICATE;
  return { status: "in_progress", retryAfterMs: claim.retryAfterMs };
}
