import { WebhookError } from "./errors";
import { functionOption, integerOption } from "./options";
import {
  type ClaimResult,
  createToken,
  DEFAULT_LEASE_MS,
  DEFAULT_RETENTION_MS,
  type IdempotencyStore,
  LOCAL_STORE,
  type LocalStore,
  type Unclaimed,
} from "./store";

export interface MemoryStoreOptions {
  /** Lease of a processing record, in ms (default 30 s). */
  leaseMs?: number;
  /** How long completed records are kept, in ms (default 24 h), unless evicted earlier by `maxEntries`. */
  retentionMs?: number;
  /**
   * Most completed records kept; the least recently used is evicted first (default 10 000). An evicted
   * event can no longer be recognised as a duplicate, so the store then refuses every event timestamped at
   * or before the newest one it evicted (see `horizon`): size it to hold at least the events of Optare's
   * 81-minute retry span, better of `maxEventAge` (24 h).
   */
  maxEntries?: number;
  /** Most records processing at once; beyond it `claim` rejects with `store_unavailable` (default 10 000). */
  maxProcessing?: number;
  /** The store's clock in ms (default: the monotonic `performance.now()`). Inject one in tests. */
  now?: () => number;
}

interface Entry {
  /**
   * The claim's token; undefined for a hold taken through `LOCAL_STORE` by a receiver in this process,
   * which lasts until it completes or releases (see `LocalStore`).
   */
  token: string | undefined;
  bodyHash: string;
  expiresAt: number;
  /** The event's timestamp (epoch ms); unknown when the claim did not say. Evicting it moves `horizon`. */
  eventTime: number | undefined;
  id: string;
}

/** Expired records are also dropped by a full scan at most this often (they are dropped on access anyway). */
const SWEEP_INTERVAL_MS = 1_000;

/**
 * An in-memory `IdempotencyStore`.
 *
 * **Single process only.** Records live in this process's memory: two processes (cluster workers,
 * serverless instances, a rolling deploy) each have their own and will both run a duplicate delivery,
 * and a restart forgets every event. Use `@optare/webhooks-redis` when more than one process receives.
 *
 * Bounded: at most `maxEntries` completed records, evicting the least recently used. An evicted event
 * would run again if it were delivered again, so the store never claims an event timestamped at or before
 * the newest event it evicted (`horizon()`): such a delivery is refused with `event_too_old` (401), and the
 * receiver logs a warning when that horizon comes within Optare's retry span. Processing records are
 * never evicted; when `maxProcessing` of them are
 * live, `claim` rejects with `WebhookError("store_unavailable")` so the receiver answers 503 and the
 * sender retries later. Expiry needs no timers: records are checked on access and swept periodically.
 */
export function memoryStore(options: MemoryStoreOptions = {}): IdempotencyStore {
  const where = "memoryStore";
  const leaseMs = integerOption(where, "leaseMs", options.leaseMs, DEFAULT_LEASE_MS);
  const retentionMs = integerOption(where, "retentionMs", options.retentionMs, DEFAULT_RETENTION_MS);
  const maxEntries = integerOption(where, "maxEntries", options.maxEntries, 10_000);
  const maxProcessing = integerOption(where, "maxProcessing", options.maxProcessing, 10_000);
  const now = functionOption<() => number>(where, "now", options.now) ?? (() => performance.now());
  /** The newest event time among evicted records: nothing stamped at or before it may be claimed. */
  let horizon = Number.NEGATIVE_INFINITY;

  // Each id is in at most one map. `completed` iterates least recently used first.
  const processing = new Map<string, Entry>();
  const completed = new Map<string, Entry>();
  let nextSweepAt = Number.NEGATIVE_INFINITY;

  /** A processing record is live until its lease runs out; a local hold until it is given up. */
  const live = (entry: Entry, at: number) => entry.token === undefined || entry.expiresAt > at;

  function sweepProcessing(at: number): void {
    for (const [id, entry] of processing) if (!live(entry, at)) processing.delete(id);
  }

  /** Drops expired records at most once per interval, so the cost per operation stays O(1) amortised. */
  function sweepIfDue(at: number): void {
    if (at < nextSweepAt) return;
    nextSweepAt = at + SWEEP_INTERVAL_MS;
    sweepProcessing(at);
    for (const [id, entry] of completed) if (entry.expiresAt <= at) completed.delete(id);
  }

  // Eviction walks `completed` with ONE long-lived iterator. A fresh `keys()` per eviction would step
  // over every entry deleted from the front since the table's last rehash: 6 µs per eviction at 10,000
  // records, 34 µs at 100,000 (measured on Node 20). Everything behind the cursor is deleted, so the
  // next key it yields is the least recently used record.
  let cursor = completed.keys();
  function evictLeastRecentlyUsed(): void {
    let next = cursor.next();
    if (next.done) {
      cursor = completed.keys();
      next = cursor.next();
    }
    if (next.done) return;
    const { eventTime } = completed.get(next.value)!;
    completed.delete(next.value);
    if (eventTime !== undefined && eventTime > horizon) horizon = eventTime;
  }

  /** The live processing record of `eventId` held by `token`, if any. */
  function findHeld(eventId: string, token: string, at: number): Entry | undefined {
    const entry = processing.get(eventId);
    if (entry === undefined || entry.token !== token) return undefined;
    if (entry.expiresAt > at) return entry;
    processing.delete(eventId);
    return undefined;
  }

  /** The claim of `eventId`: the new processing record, or what holds the id already. */
  function claim(
    eventId: string,
    bodyHash: string,
    eventTime: number | undefined,
    token: string | undefined,
  ): Entry | Unclaimed {
    const at = now();
    sweepIfDue(at);
    const held = processing.get(eventId);
    if (held !== undefined) {
      if (live(held, at)) {
        return {
          status: "processing",
          sameBody: held.bodyHash === bodyHash,
          // A local hold has no expiry of its own: the handlers are still running in this process.
          retryAfterMs: held.token === undefined ? leaseMs : Math.ceil(held.expiresAt - at),
        };
      }
      processing.delete(eventId);
    }
    const done = completed.get(eventId);
    if (done !== undefined) {
      completed.delete(eventId);
      if (done.expiresAt > at) {
        completed.set(eventId, done);
        return { status: "completed", sameBody: done.bodyHash === bodyHash };
      }
    }
    // A claim that does not say when its event happened cannot be judged (the receiver always says).
    if (eventTime !== undefined && !(eventTime > horizon)) {
      throw new WebhookError(
        "event_too_old",
        "The event is older than the newest one the memory store had to forget (maxEntries), so it " +
          "cannot be told apart from a replay. Raise maxEntries or use a shared store such as redisStore.",
      );
    }
    if (processing.size >= maxProcessing) {
      sweepProcessing(at);
      if (processing.size >= maxProcessing) {
        throw new WebhookError(
          "store_unavailable",
          `The memory store already holds ${maxProcessing} events in processing (maxProcessing).`,
        );
      }
    }
    const entry: Entry = { token, bodyHash, expiresAt: at + leaseMs, eventTime, id: eventId };
    processing.set(eventId, entry);
    return entry;
  }

  /** processing → completed, kept for `retentionMs`, evicting the least recently used beyond `maxEntries`. */
  function complete(entry: Entry, at: number): void {
    processing.delete(entry.id);
    entry.expiresAt = at + retentionMs;
    completed.set(entry.id, entry);
    if (completed.size > maxEntries) evictLeastRecentlyUsed();
  }

  /** Whether `entry` is still the processing record of its id (not completed, released or replaced). */
  const holds = (entry: Entry) => processing.get(entry.id) === entry;

  const local: LocalStore = {
    claim: (eventId, bodyHash, eventTime) => claim(eventId, bodyHash, eventTime, undefined),
    complete(hold) {
      const entry = hold as Entry;
      if (!holds(entry)) return false;
      complete(entry, now());
      return true;
    },
    release(hold) {
      const entry = hold as Entry;
      if (!holds(entry)) return false;
      processing.delete(entry.id);
      return true;
    },
  };

  const store: IdempotencyStore = {
    leaseMs,
    retentionMs,

    horizon: () => horizon,

    async claim(eventId, bodyHash, details): Promise<ClaimResult> {
      const result = claim(eventId, bodyHash, details?.eventTime, createToken());
      return "status" in result ? result : { status: "claimed", token: result.token! };
    },

    async complete(eventId, token) {
      const at = now();
      const entry = findHeld(eventId, token, at);
      if (entry === undefined) return false;
      complete(entry, at);
      return true;
    },

    async release(eventId, token) {
      if (findHeld(eventId, token, now()) === undefined) return false;
      processing.delete(eventId);
      return true;
    },

    async extend(eventId, token, extendMs = leaseMs) {
      const length = integerOption(where, "leaseMs", extendMs, leaseMs);
      const at = now();
      const entry = findHeld(eventId, token, at);
      if (entry === undefined) return false;
      entry.expiresAt = at + length;
      return true;
    },
  };
  // Not enumerable: a copy of the store (`{ ...store }`) is a plain async store, heartbeats and all.
  Object.defineProperty(store, LOCAL_STORE, { value: local });
  return store;
}
