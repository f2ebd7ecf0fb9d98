import { describeStoreContract } from "@optare/webhooks-testing/store-contract";
import { describe, expect, it } from "vitest";
import { isWebhookError } from "./errors";
import { memoryStore } from "./memory-store";
import { type ClaimResult, type IdempotencyStore, type LocalStore, localStoreOf } from "./store";

describeStoreContract("memoryStore", (options) => memoryStore(options));

/** A clock the test moves by hand. */
function createClock(start = 1_000_000) {
  let time = start;
  return {
    now: () => time,
    advance: (ms: number) => {
      time += ms;
    },
  };
}

async function claimToken(store: IdempotencyStore, id: string): Promise<string> {
  const result = await store.claim(id, "hash");
  if (result.status !== "claimed") throw new Error(`expected ${id} to be claimable, got ${result.status}`);
  return result.token;
}

async function claimAndComplete(store: IdempotencyStore, id: string): Promise<void> {
  expect(await store.complete(id, await claimToken(store, id))).toBe(true);
}

const statusOf = async (store: IdempotencyStore, id: string): Promise<ClaimResult["status"]> =>
  (await store.claim(id, "hash")).status;

describe("memoryStore", () => {
  it("defaults to the SDK's lease and retention", () => {
    const store = memoryStore();
    expect(store.leaseMs).toBe(30_000);
    expect(store.retentionMs).toBe(24 * 60 * 60 * 1000);
  });

  it("rejects nonsensical options with invalid_configuration", () => {
    for (const options of [
      { leaseMs: 0 },
      { retentionMs: -1 },
      { maxEntries: 1.5 },
      { maxProcessing: Number.NaN },
    ]) {
      expect(() => memoryStore(options)).toThrow(expect.objectContaining({ code: "invalid_configuration" }));
    }
  });

  it("evicts the least recently used completed record once maxEntries is exceeded", async () => {
    const store = memoryStore({ maxEntries: 3 });
    for (const id of ["a", "b", "c"]) await claimAndComplete(store, id);
    // A duplicate delivery of "a" makes it the most recently used; "b" is now the oldest.
    expect(await statusOf(store, "a")).toBe("completed");
    await claimAndComplete(store, "d");
    expect(await statusOf(store, "a")).toBe("completed");
    expect(await statusOf(store, "c")).toBe("completed");
    expect(await statusOf(store, "d")).toBe("completed");
    // "b" was forgotten, so it is claimable again (that claim is a processing record, not a completed one).
    expect(await statusOf(store, "b")).toBe("claimed");
  });

  it("never holds more than maxEntries completed records", async () => {
    const store = memoryStore({ maxEntries: 5 });
    const ids = Array.from({ length: 20 }, (_, i) => `evt_${i}`);
    for (const id of ids) await claimAndComplete(store, id);
    const statuses = [];
    for (const id of ids) statuses.push(await statusOf(store, id));
    // Checking in order re-claims the evicted ones; only the five newest were still remembered.
    expect(statuses.slice(-5)).toEqual(Array(5).fill("completed"));
    expect(statuses.slice(0, -5)).toEqual(Array(15).fill("claimed"));
  });

  it("tells a duplicate's body from another at every point of its table's growth and packing", async () => {
    // Completed records live in slots that are packed, or moved to larger arrays, when the last slot is
    // used: a duplicate that lands on that moment must still be compared with its own record.
    const store = memoryStore({ maxEntries: 300 });
    for (let i = 0; i < 300; i++) {
      const claim = await store.claim(`evt_${i}`, `hash_${i}`);
      if (claim.status !== "claimed") throw new Error("expected a claim");
      await store.complete(`evt_${i}`, claim.token);
      for (let j = Math.max(0, i - 3); j <= i; j++) {
        expect(await store.claim(`evt_${j}`, `hash_${j}`)).toEqual({ status: "completed", sameBody: true });
        expect(await store.claim(`evt_${j}`, "another body")).toEqual({
          status: "completed",
          sameBody: false,
        });
      }
    }
  });

  it("evicts in exact LRU order through thousands of evictions interleaved with touches (property)", async () => {
    // A model LRU (array, oldest first) against the store's eviction cursor, across table rehashes.
    const maxEntries = 50;
    const store = memoryStore({ maxEntries });
    const model: string[] = [];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 3000; i++) {
      if (model.length > 0 && random() < 0.3) {
        const id = model[Math.floor(random() * model.length)]!;
        expect(await statusOf(store, id)).toBe("completed"); // a duplicate touches it
        model.splice(model.indexOf(id), 1);
        model.push(id);
      } else {
        await claimAndComplete(store, `evt_${i}`);
        model.push(`evt_${i}`);
        if (model.length > maxEntries) model.shift();
      }
    }
    // Probe oldest first without disturbing order: remembered ones are touched in model order anyway.
    for (const id of model) expect(await statusOf(store, id)).toBe("completed");
    expect(await statusOf(store, "evt_0")).toBe("claimed");
  });

  it("never evicts processing records, however many completions follow", async () => {
    const store = memoryStore({ maxEntries: 2 });
    const token = await claimToken(store, "held");
    for (let i = 0; i < 10; i++) await claimAndComplete(store, `evt_${i}`);
    expect(await store.claim("held", "hash")).toMatchObject({ status: "processing", sameBody: true });
    expect(await store.complete("held", token)).toBe(true);
  });

  it("rejects claims with store_unavailable (503) when full of processing records, and recovers", async () => {
    const clock = createClock();
    const store = memoryStore({ maxProcessing: 3, leaseMs: 1_000, now: clock.now });
    const tokens = [
      await claimToken(store, "p1"),
      await claimToken(store, "p2"),
      await claimToken(store, "p3"),
    ];
    const error = await store.claim("p4", "hash").then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isWebhookError(error) && error.code === "store_unavailable" && error.status === 503).toBe(true);
    // Duplicates of held and completed events are still answered while full.
    expect(await statusOf(store, "p1")).toBe("processing");
    // Finishing one frees a slot.
    expect(await store.complete("p1", tokens[0]!)).toBe(true);
    expect(await statusOf(store, "p1")).toBe("completed");
    await claimToken(store, "p4");
    await expect(store.claim("p5", "hash")).rejects.toMatchObject({ code: "store_unavailable" });
    // Expired leases free their slots too, without waiting for the periodic sweep.
    clock.advance(1_000);
    await claimToken(store, "p5");
  });

  it("expires leases and completed records exactly on the injected clock", async () => {
    const clock = createClock();
    const store = memoryStore({ leaseMs: 100, retentionMs: 1_000, now: clock.now });
    const token = await claimToken(store, "evt");
    clock.advance(60);
    expect(await store.claim("evt", "hash")).toEqual({
      status: "processing",
      sameBody: true,
      retryAfterMs: 40,
    });
    clock.advance(39);
    expect(await store.extend("evt", token, 500)).toBe(true);
    clock.advance(499);
    expect(await store.claim("evt", "hash")).toEqual({
      status: "processing",
      sameBody: true,
      retryAfterMs: 1,
    });
    clock.advance(1);
    expect(await store.complete("evt", token)).toBe(false);
    const second = await claimToken(store, "evt");
    expect(await store.complete("evt", second)).toBe(true);
    clock.advance(999);
    expect(await store.claim("evt", "other")).toEqual({ status: "completed", sameBody: false });
    clock.advance(1);
    expect(await statusOf(store, "evt")).toBe("claimed");
  });
});

/** Claim details with only the event time that matters here. */
const at = (eventTime: number) => ({ eventTime, eventType: "user.created", body: "{}" });

describe("memoryStore: what it can no longer vouch for", () => {
  it("refuses to claim an event stamped at or before the newest one it evicted, and reports that horizon", async () => {
    const store = memoryStore({ maxEntries: 2 });
    expect(store.horizon?.()).toBe(Number.NEGATIVE_INFINITY);
    const times = { a: 1_000, b: 3_000, c: 2_000 };
    for (const [id, time] of Object.entries(times)) {
      const claim = await store.claim(id, "h", at(time));
      if (claim.status !== "claimed") throw new Error("expected a claim");
      await store.complete(id, claim.token);
    }
    // "a" was evicted (least recently used): nothing stamped at or before its time may be claimed now.
    expect(store.horizon?.()).toBe(1_000);
    await expect(store.claim("a", "h", at(1_000))).rejects.toMatchObject({
      code: "event_too_old",
      status: 401,
    });
    await expect(store.claim("older", "h", at(500))).rejects.toMatchObject({ code: "event_too_old" });
    // Records it still holds answer as before; newer events are claimed.
    expect((await store.claim("b", "h", at(3_000))).status).toBe("completed");
    expect((await store.claim("newer", "h", at(1_001))).status).toBe("claimed");
  });

  it("keeps the horizon at the newest evicted time, not the latest eviction's", async () => {
    const store = memoryStore({ maxEntries: 1 });
    for (const [id, time] of [
      ["x", 5_000],
      ["y", 4_000],
      ["z", 6_000],
    ] as const) {
      const claim = await store.claim(id, "h", at(time));
      if (claim.status === "claimed") await store.complete(id, claim.token);
    }
    expect(store.horizon?.()).toBe(5_000); // x (5 000) then y (4 000) were evicted
  });
});

describe("memoryStore: the receiver's holds (LOCAL_STORE)", () => {
  function local(store: IdempotencyStore): LocalStore {
    const face = localStoreOf(store);
    if (face === undefined) throw new Error("memoryStore should offer its synchronous face");
    return face;
  }

  it("holds an event past any lease until it completes, answering duplicates as processing meanwhile", async () => {
    const clock = createClock();
    const store = memoryStore({ leaseMs: 100, now: clock.now });
    const hold = local(store).claim("evt", "hash", 1_000);
    if ("status" in hold) throw new Error("expected a hold");
    clock.advance(10_000); // a hundred leases: nothing expires a hold
    expect(await store.claim("evt", "hash")).toEqual({
      status: "processing",
      sameBody: true,
      retryAfterMs: 100,
    });
    expect(local(store).claim("evt", "other", 1_000)).toEqual({
      status: "processing",
      sameBody: false,
      retryAfterMs: 100,
    });
    // The public API cannot act on it: the hold has no token.
    expect(await store.extend("evt", "undefined")).toBe(false);
    expect(local(store).complete(hold)).toBe(true);
    expect(local(store).complete(hold)).toBe(false);
    expect(local(store).release(hold)).toBe(false);
    expect(await store.claim("evt", "hash")).toEqual({ status: "completed", sameBody: true });
  });

  it("gives a released hold up, so the event is claimable again, and counts holds against maxProcessing", async () => {
    const store = memoryStore({ maxProcessing: 1 });
    const hold = local(store).claim("evt", "hash", 1_000);
    if ("status" in hold) throw new Error("expected a hold");
    expect(() => local(store).claim("other", "hash", 1_000)).toThrow(
      expect.objectContaining({ code: "store_unavailable" }),
    );
    expect(local(store).release(hold)).toBe(true);
    expect(local(store).release(hold)).toBe(false);
    expect((await store.claim("evt", "hash")).status).toBe("claimed");
  });

  it("survives the periodic sweep, which drops expired public claims around it", async () => {
    const clock = createClock();
    const store = memoryStore({ leaseMs: 100, now: clock.now });
    const hold = local(store).claim("held", "hash", 1_000);
    if ("status" in hold) throw new Error("expected a hold");
    await claimToken(store, "leased");
    clock.advance(5_000); // past the lease and the sweep interval
    expect(await statusOf(store, "leased")).toBe("claimed");
    expect(await statusOf(store, "held")).toBe("processing");
    expect(local(store).complete(hold)).toBe(true);
  });

  it("is not enumerable: a copy of the store is a plain async store", () => {
    expect(localStoreOf({ ...memoryStore() })).toBeUndefined();
  });
});
