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

/** A claim in progress: a public claim with its token and lease, or a receiver's hold. */
interface Claim {
  id: string;
  /**
   * The claim's token; undefined for a hold taken through `LOCAL_STORE` by a receiver in this process,
   * which lasts until it completes or releases (see `LocalStore`).
   */
  token: string | undefined;
  bodyHash: string;
  expiresAt: number;
  /** The event's timestamp (epoch ms); unknown when the claim did not say. Evicting it moves `horizon`. */
  eventTime: number | undefined;
  /** Still the processing record of its id: not completed, released, expired or replaced. */
  live: boolean;
}

/** Expired records are also dropped by a full scan at most this often (they are dropped on access anyway). */
const SWEEP_INTERVAL_MS = 1_000;

/**
 * 53 bits of `bodyHash` (cyrb53): what a completed record keeps of it. Two different body hashes of one
 * event id would be taken for the same body once in 2^53; the receiver's are SHA-256 digests, and Optare
 * never reuses an id for another body at all, so the conflict this detects is itself a sender's bug.
 */
function fingerprint(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * The completed records, least recently used first, in columns: an id's slot in `index`, and per slot
 * the id, the body's fingerprint, the expiry and the event time. A record is then its id string and a
 * map entry on the JS heap, the numbers living in typed arrays the GC never traces.
 *
 * Receipt: with a record per event as an object (its token and body hash as strings, its times as heap
 * numbers, ~240 bytes), the 10,000 records of the default store cost the node:http server 5–9 µs of CPU
 * per request against a store of 100 (copied by every scavenge, promoted, then collected by full GCs;
 * bench/node-http.bench.mjs servers, 0.84–0.94× pooled). In columns (~53 bytes), 0.3–2.7 µs: 0.94–0.99×
 * (three runs of 8 pairs, 2026-12-07). Slots are used in order (`head` grows, `tail` follows the oldest);
 * a touched record moves to the head and leaves a hole, and the live records are packed to the front,
 * or into arrays twice the size, when the head reaches the end.
 */
class CompletedRecords {
  private readonly index = new Map<string, number>();
  private ids: (string | undefined)[] = [];
  private prints = new Float64Array(0);
  private expiries = new Float64Array(0);
  /** The event's time, NaN when the claim did not say. */
  private times = new Float64Array(0);
  private tail = 0;
  private head = 0;

  get size(): number {
    return this.index.size;
  }

  slotOf(id: string): number | undefined {
    return this.index.get(id);
  }

  expiresAt(slot: number): number {
    return this.expiries[slot]!;
  }

  sameBody(slot: number, bodyHash: string): boolean {
    return this.prints[slot] === fingerprint(bodyHash);
  }

  add(id: string, print: number, expiresAt: number, eventTime: number): void {
    if (this.head === this.ids.length) this.makeRoom();
    const slot = this.head++;
    this.ids[slot] = id;
    this.prints[slot] = print;
    this.expiries[slot] = expiresAt;
    this.times[slot] = eventTime;
    this.index.set(id, slot);
  }

  /** Makes the record the most recently used. */
  touch(slot: number): void {
    const id = this.ids[slot]!;
    const { prints, expiries, times } = this;
    const print = prints[slot]!;
    const expiresAt = expiries[slot]!;
    const time = times[slot]!;
    this.ids[slot] = undefined;
    this.add(id, print, expiresAt, time);
  }

  remove(slot: number): void {
    this.index.delete(this.ids[slot]!);
    this.ids[slot] = undefined;
  }

  /** Forgets the least recently used record; its event time (NaN when unknown). */
  evictOldest(): number {
    const { ids } = this;
    while (this.tail < this.head && ids[this.tail] === undefined) this.tail++;
    const slot = this.tail++;
    this.remove(slot);
    return this.times[slot]!;
  }

  removeExpired(at: number): void {
    const { ids, expiries } = this;
    for (let slot = this.tail; slot < this.head; slot++) {
      if (ids[slot] !== undefined && expiries[slot]! <= at) this.remove(slot);
    }
  }

  /** Packs the live records to the front, into arrays twice as large when they would be over half full. */
  private makeRoom(): void {
    const capacity = this.ids.length;
    const size = Math.max(64, this.index.size * 2 > capacity ? capacity * 2 : capacity);
    const ids: (string | undefined)[] = size === capacity ? this.ids : new Array(size).fill(undefined);
    const prints = size === capacity ? this.prints : new Float64Array(size);
    const expiries = size === capacity ? this.expiries : new Float64Array(size);
    const times = size === capacity ? this.times : new Float64Array(size);
    let to = 0;
    for (let from = this.tail; from < this.head; from++) {
      const id = this.ids[from];
      if (id === undefined) continue;
      // In place, `to` never passes `from`: nothing is overwritten before it is moved.
      ids[to] = id;
      prints[to] = this.prints[from]!;
      expiries[to] = this.expiries[from]!;
      times[to] = this.times[from]!;
      this.index.set(id, to);
      to++;
    }
    ids.fill(undefined, to, this.head);
    this.ids = ids;
    this.prints = prints;
    this.expiries = expiries;
    this.times = times;
    this.tail = 0;
    this.head = to;
  }
}

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

  // Each id is in at most one of them.
  const processing = new Map<string, Claim>();
  const completed = new CompletedRecords();
  let nextSweepAt = Number.NEGATIVE_INFINITY;

  /** A processing record is live until its lease runs out; a local hold until it is given up. */
  const unexpired = (claim: Claim, at: number) => claim.token === undefined || claim.expiresAt > at;

  function drop(claim: Claim): void {
    processing.delete(claim.id);
    claim.live = false;
  }

  function sweepProcessing(at: number): void {
    for (const claim of processing.values()) if (!unexpired(claim, at)) drop(claim);
  }

  /** Drops expired records at most once per interval, so the cost per operation stays O(1) amortised. */
  function sweepIfDue(at: number): void {
    if (at < nextSweepAt) return;
    nextSweepAt = at + SWEEP_INTERVAL_MS;
    sweepProcessing(at);
    completed.removeExpired(at);
  }

  /** The live processing record of `eventId` held by `token`, if any. */
  function findHeld(eventId: string, token: string, at: number): Claim | undefined {
    const claim = processing.get(eventId);
    if (claim === undefined || claim.token !== token) return undefined;
    if (claim.expiresAt > at) return claim;
    drop(claim);
    return undefined;
  }

  /** The claim of `eventId`: the new processing record, or what holds the id already. */
  function claim(
    eventId: string,
    bodyHash: string,
    eventTime: number | undefined,
    token: string | undefined,
  ): Claim | Unclaimed {
    const at = now();
    sweepIfDue(at);
    const held = processing.get(eventId);
    if (held !== undefined) {
      if (unexpired(held, at)) {
        return {
          status: "processing",
          sameBody: held.bodyHash === bodyHash,
          // A local hold has no expiry of its own: the handlers are still running in this process.
          retryAfterMs: held.token === undefined ? leaseMs : Math.ceil(held.expiresAt - at),
        };
      }
      drop(held);
    }
    const slot = completed.slotOf(eventId);
    if (slot !== undefined) {
      if (completed.expiresAt(slot) > at) {
        const sameBody = completed.sameBody(slot, bodyHash); // before the touch moves the record
        completed.touch(slot);
        return { status: "completed", sameBody };
      }
      completed.remove(slot);
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
    const entry: Claim = { id: eventId, token, bodyHash, expiresAt: at + leaseMs, eventTime, live: true };
    processing.set(eventId, entry);
    return entry;
  }

  /** processing → completed, kept for `retentionMs`, evicting the least recently used beyond `maxEntries`. */
  function complete(claim: Claim, at: number): void {
    drop(claim);
    completed.add(claim.id, fingerprint(claim.bodyHash), at + retentionMs, claim.eventTime ?? Number.NaN);
    if (completed.size > maxEntries) {
      const eventTime = completed.evictOldest();
      if (eventTime > horizon) horizon = eventTime; // NaN (unknown) never is
    }
  }

  const local: LocalStore = {
    claim: (eventId, bodyHash, eventTime) => claim(eventId, bodyHash, eventTime, undefined),
    complete(hold) {
      const claim = hold as Claim;
      if (!claim.live) return false;
      complete(claim, now());
      return true;
    },
    release(hold) {
      const claim = hold as Claim;
      if (!claim.live) return false;
      drop(claim);
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
      const claim = findHeld(eventId, token, at);
      if (claim === undefined) return false;
      complete(claim, at);
      return true;
    },

    async release(eventId, token) {
      const claim = findHeld(eventId, token, now());
      if (claim === undefined) return false;
      drop(claim);
      return true;
    },

    async extend(eventId, token, extendMs = leaseMs) {
      const length = integerOption(where, "leaseMs", extendMs, leaseMs);
      const at = now();
      const claim = findHeld(eventId, token, at);
      if (claim === undefined) return false;
      claim.expiresAt = at + length;
      return true;
    },
  };
  // Not enumerable: a copy of the store (`{ ...store }`) is a plain async store, heartbeats and all.
  Object.defineProperty(store, LOCAL_STORE, { value: local });
  return store;
}
