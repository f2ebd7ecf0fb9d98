import { randomToken } from "./crypto-node";
import type { WebhookEvent } from "./event";

/**
 * The idempotency store contract (SPEC §4). A store keeps one record per event id:
 * `{ state: "processing" | "completed", token, bodyHash }`.
 *
 * - `claim` is atomic: exactly one of many concurrent claims for an id wins. When it does not win it
 *   returns the existing record in the same round trip.
 * - `complete`, `release` and `extend` act only when `token` matches and the record is `processing`;
 *   they report whether they acted.
 * - A `processing` record expires after its lease (`leaseMs`), making the event claimable again;
 *   a `completed` record is kept for `retentionMs`. Expiry uses the store's own clock.
 * - Any failure to reach the store rejects (the receiver answers 503: fail closed).
 */
export interface IdempotencyStore {
  /** Lease of a processing record, in ms. Default 30 s: shorter than the sender's first retry gap. */
  readonly leaseMs: number;
  /** How long completed records are kept, in ms. Default 24 h. Bounds the receiver's `maxEventAge`. */
  readonly retentionMs: number;
  /**
   * Claims `eventId`. The receiver also says what the event is (`details`): its time lets a bounded store
   * refuse an event it can no longer vouch for (see `horizon`); a store that logs events keeps the rest.
   */
  claim(eventId: string, bodyHash: string, details?: ClaimDetails): Promise<ClaimResult>;
  /** processing → completed (kept for `retentionMs`). */
  complete(eventId: string, token: string): Promise<boolean>;
  /**
   * Gives up a processing record so the next delivery runs the handlers again. `error` says why (a store
   * that logs events records it as the event's last error).
   */
  release(eventId: string, token: string, error?: EventError): Promise<boolean>;
  /** Pushes a processing record's expiry to now + `leaseMs` (default: the store's lease). */
  extend(eventId: string, token: string, leaseMs?: number): Promise<boolean>;
  /**
   * Bounded stores only (`memoryStore`): the newest event timestamp (epoch ms) among the records it has had
   * to forget before their retention ran out, or -Infinity. Such a store refuses to claim an event stamped
   * at or before it (`event_too_old`): it could be the replay of a forgotten one. The receiver warns when
   * this comes within Optare's retry span of now.
   */
  horizon?(): number;
}

/**
 * How long Optare keeps retrying one event: 1 + 5 + 15 + 60 minutes between its five attempts, plus five
 * 30-second timeouts. A store that cannot vouch for events this old may refuse a legitimate retry.
 */
export const OPTARE_RETRY_SPAN_MS = (81 * 60 + 5 * 30) * 1000;

/** What the receiver knows of the event it claims. */
export interface ClaimDetails {
  /** The event's timestamp, epoch ms. */
  eventTime: number;
  /** The event type, e.g. `user.created`. */
  eventType: string;
  /** The verified raw body. */
  body: Uint8Array | string;
}

/** Why handlers failed, as an event log keeps it. */
export interface EventError {
  code: string;
  message: string;
}

/**
 * A store that runs the claim, the handlers and the completion in ONE transaction of its own database
 * (`postgresStore({ transactional: true })`): the handlers' writes through `context.transaction` and the
 * completion commit together, and a throw or a crash rolls both back. The receiver uses
 * `runInTransaction` instead of claim / complete / release.
 */
export interface TransactionalStore<Tx> extends IdempotencyStore {
  readonly transactional: true;
  /**
   * Claims `eventId` in a new transaction; when the claim is won, runs `work(tx)` in it and completes,
   * then commits. Resolves with `{ status: "processed" }`, or the claim's outcome when it was not won
   * (never waiting on another transaction: one in flight is `processing`). Rejects with `work`'s error
   * after rolling back, the event then claimable again.
   */
  runInTransaction(
    eventId: string,
    bodyHash: string,
    details: ClaimDetails,
    work: (transaction: Tx) => Promise<void>,
  ): Promise<{ readonly status: "processed" } | Unclaimed>;
}

/** True for a store that runs handlers in its own transactions. */
export function isTransactionalStore(store: IdempotencyStore): store is TransactionalStore<unknown> {
  return (store as Partial<TransactionalStore<unknown>>).transactional === true;
}

export type ClaimResult =
  /** This caller owns the event until it completes, releases, or the lease runs out. */
  | { readonly status: "claimed"; readonly token: string }
  /** Another caller holds the lease; `retryAfterMs` is what is left of it. */
  | { readonly status: "processing"; readonly sameBody: boolean; readonly retryAfterMs: number }
  /** The event was processed before. */
  | { readonly status: "completed"; readonly sameBody: boolean };

/** A claim that was not won, as `claim` reports it. */
export type Unclaimed = Exclude<ClaimResult, { status: "claimed" }>;

/**
 * Internal: a store in this process's memory (`memoryStore`) offers the receiver its claims synchronously,
 * under this key. A claim taken this way is a *hold*: it lasts until the receiver completes or releases it,
 * with no lease to extend, since the handlers holding it run in the process that holds the record (the
 * heartbeat of an async store keeps a running handler's lease alive just the same, forever if it hangs).
 * `Symbol.for`, so that a CommonJS and an ESM copy of the package in one process still recognise it.
 */
export const LOCAL_STORE: unique symbol = Symbol.for("@optare/webhooks.localStore") as never;

/** The synchronous face of an in-process store (see `LOCAL_STORE`). */
export interface LocalStore {
  /** Claims `eventId`: a hold (an opaque object) when won, else what holds the id. Throws as `claim` rejects. */
  claim(eventId: string, bodyHash: string, eventTime: number): object | Unclaimed;
  /** hold → completed; false when it no longer holds the id. */
  complete(hold: object): boolean;
  /** Gives the hold up, so the next delivery runs the handlers again. */
  release(hold: object): boolean;
}

/** The store's synchronous face, when it lives in this process. */
export function localStoreOf(store: IdempotencyStore): LocalStore | undefined {
  return (store as { [LOCAL_STORE]?: LocalStore })[LOCAL_STORE];
}

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_RETENTION_MS = 24 * 60 * 60 * 1000;

/** A random claim token (a v4 UUID: 122 random bits). */
export function createToken(): string {
  return randomToken();
}

/**
 * Where a receiver in queue mode hands verified events (SPEC §8.3), instead of running handlers itself:
 * `bullmqQueue()` from `@optare/webhooks-bullmq`. The queue deduplicates on the event id.
 */
export interface EventQueue {
  /**
   * Adds the verified, parsed event with its raw body. Resolves `queued` once the queue holds it,
   * `duplicate` when it already held this id with the same body, `conflict` with another body; rejects
   * when the queue cannot be reached (the receiver answers 503).
   */
  enqueue(
    event: WebhookEvent,
    body: Uint8Array | string,
    bodyHash: string,
  ): Promise<"queued" | "duplicate" | "conflict">;
  /** How long the queue remembers a finished event's id, in ms: at least the receiver's `maxEventAge`. */
  readonly retentionMs: number;
}
