import type { ClaimResult, IdempotencyStore } from "@optare/webhooks";
import { afterAll, describe, expect, it } from "vitest";

/** What the contract suite asks a store factory for; every test picks its own durations. */
export interface StoreContractOptions {
  leaseMs: number;
  retentionMs: number;
}

export interface StoreContractHooks {
  /** Runs once after the suite, e.g. to delete the keys it wrote and close clients. */
  cleanup?: () => Promise<void>;
}

/** Long enough that nothing expires during a test that does not wait for expiry. */
const LONG = { leaseMs: 60_000, retentionMs: 120_000 };
/** A short lease for the tests that wait for expiry; waits are well past every deadline. */
const SHORT_LEASE_MS = 200;
const MARGIN_MS = 300;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A fresh event id per call, with characters a naive key scheme could trip over. */
const createEventId = () => `evt_contract:${crypto.randomUUID()} {ü}*?`;

function expectClaimed(result: ClaimResult): string {
  expect(result.status).toBe("claimed");
  if (result.status !== "claimed") throw new Error("unreachable");
  expect(typeof result.token).toBe("string");
  expect(result.token.length).toBeGreaterThan(0);
  return result.token;
}

/**
 * Registers the `IdempotencyStore` contract (SPEC §4) as vitest tests, like unstorage's `testDriver()`.
 * `createStore` is called once per test with the lease and retention that test needs; it may return
 * stores sharing one backend, since every test uses its own event ids. Tests run concurrently and wait
 * in real time (a few hundred ms) for leases and retention to run out, so the suite takes ~2 s.
 *
 * ```ts
 * describeStoreContract("memoryStore", (options) => memoryStore(options));
 * ```
 */
export function describeStoreContract(
  name: string,
  createStore: (options: StoreContractOptions) => IdempotencyStore | Promise<IdempotencyStore>,
  hooks: StoreContractHooks = {},
): void {
  describe.concurrent(`IdempotencyStore contract: ${name}`, () => {
    if (hooks.cleanup) afterAll(hooks.cleanup);

    it("exposes the lease and retention it was created with", async () => {
      const store = await createStore({ leaseMs: 12_345, retentionMs: 67_890 });
      expect(store.leaseMs).toBe(12_345);
      expect(store.retentionMs).toBe(67_890);
    });

    it("claims a new id and returns a token", async () => {
      const store = await createStore(LONG);
      expectClaimed(await store.claim(createEventId(), "hash-a"));
    });

    it("answers a second claim with processing, the same body and what is left of the lease", async () => {
      const store = await createStore(LONG);
      const id = createEventId();
      expectClaimed(await store.claim(id, "hash-a"));
      const second = await store.claim(id, "hash-a");
      expect(second).toMatchObject({ status: "processing", sameBody: true });
      if (second.status !== "processing") throw new Error("unreachable");
      expect(second.retryAfterMs).toBeGreaterThan(0);
      expect(second.retryAfterMs).toBeLessThanOrEqual(LONG.leaseMs);
    });

    it("tells a different body apart while processing and after completion", async () => {
      const store = await createStore(LONG);
      const id = createEventId();
      const token = expectClaimed(await store.claim(id, "hash-a"));
      expect(await store.claim(id, "hash-b")).toMatchObject({ status: "processing", sameBody: false });
      expect(await store.complete(id, token)).toBe(true);
      expect(await store.claim(id, "hash-b")).toEqual({ status: "completed", sameBody: false });
      expect(await store.claim(id, "hash-a")).toEqual({ status: "completed", sameBody: true });
    });

    it("lets exactly one of 100 concurrent claims of one id win", async () => {
      const store = await createStore(LONG);
      const id = createEventId();
      const results = await Promise.all(Array.from({ length: 100 }, () => store.claim(id, "hash-a")));
      expect(results.filter((r) => r.status === "claimed")).toHaveLength(1);
      const losers = results.filter((r) => r.status !== "claimed");
      expect(losers).toHaveLength(99);
      for (const loser of losers) expect(loser).toMatchObject({ status: "processing", sameBody: true });
    });

    it("keeps ids apart: claiming one does not touch another", async () => {
      const store = await createStore(LONG);
      const a = createEventId();
      const b = createEventId();
      const tokenA = expectClaimed(await store.claim(a, "hash"));
      const tokenB = expectClaimed(await store.claim(b, "hash"));
      expect(await store.complete(b, tokenA)).toBe(false);
      expect(await store.complete(a, tokenA)).toBe(true);
      expect(await store.claim(b, "hash")).toMatchObject({ status: "processing" });
      expect(await store.release(b, tokenB)).toBe(true);
    });

    it("completes only with the right token and only once", async () => {
      const store = await createStore(LONG);
      const id = createEventId();
      const token = expectClaimed(await store.claim(id, "hash-a"));
      expect(await store.complete(id, "wrong-token")).toBe(false);
      expect(await store.complete(createEventId(), token)).toBe(false);
      expect(await store.claim(id, "hash-a")).toMatchObject({ status: "processing" });
      expect(await store.complete(id, token)).toBe(true);
      expect(await store.claim(id, "hash-a")).toEqual({ status: "completed", sameBody: true });
      expect(await store.complete(id, token)).toBe(false);
      expect(await store.claim(id, "hash-a")).toEqual({ status: "completed", sameBody: true });
    });

    it("releases only with the right token; a released id is claimable again with a new token", async () => {
      const store = await createStore(LONG);
      const id = createEventId();
      const token = expectClaimed(await store.claim(id, "hash-a"));
      expect(await store.release(id, "wrong-token")).toBe(false);
      expect(await store.claim(id, "hash-a")).toMatchObject({ status: "processing" });
      expect(await store.release(id, token)).toBe(true);
      expect(await store.release(id, token)).toBe(false);
      const next = expectClaimed(await store.claim(id, "hash-a"));
      expect(next).not.toBe(token);
      // The first holder's token is dead: it can neither finish nor free the new claim.
      expect(await store.complete(id, token)).toBe(false);
      expect(await store.release(id, token)).toBe(false);
      expect(await store.extend(id, token)).toBe(false);
      expect(await store.claim(id, "hash-a")).toMatchObject({ status: "processing" });
      expect(await store.complete(id, next)).toBe(true);
    });

    it("does not release or extend a completed record", async () => {
      const store = await createStore(LONG);
      const id = createEventId();
      const token = expectClaimed(await store.claim(id, "hash-a"));
      expect(await store.complete(id, token)).toBe(true);
      expect(await store.release(id, token)).toBe(false);
      expect(await store.extend(id, token)).toBe(false);
      expect(await store.claim(id, "hash-a")).toEqual({ status: "completed", sameBody: true });
    });

    it("extends only with the right token", async () => {
      const store = await createStore(LONG);
      const id = createEventId();
      const token = expectClaimed(await store.claim(id, "hash-a"));
      expect(await store.extend(id, "wrong-token")).toBe(false);
      expect(await store.extend(createEventId(), token)).toBe(false);
      expect(await store.extend(id, token)).toBe(true);
      expect(await store.complete(id, token)).toBe(true);
    });

    it("acts on nothing for an id it never saw", async () => {
      const store = await createStore(LONG);
      const id = createEventId();
      expect(await store.complete(id, "any")).toBe(false);
      expect(await store.release(id, "any")).toBe(false);
      expect(await store.extend(id, "any")).toBe(false);
      expectClaimed(await store.claim(id, "hash-a"));
    });

    it("makes an id claimable again once its lease runs out; the old token is then dead", async () => {
      const store = await createStore({ leaseMs: SHORT_LEASE_MS, retentionMs: LONG.retentionMs });
      const id = createEventId();
      const expired = expectClaimed(await store.claim(id, "hash-a"));
      const other = createEventId();
      const expiredOther = expectClaimed(await store.claim(other, "hash-a"));
      await sleep(SHORT_LEASE_MS + MARGIN_MS);
      // Nobody re-claimed `other`: its lapsed holder still cannot complete, release or extend it.
      expect(await store.complete(other, expiredOther)).toBe(false);
      expect(await store.extend(other, expiredOther)).toBe(false);
      expect(await store.release(other, expiredOther)).toBe(false);
      expectClaimed(await store.claim(other, "hash-a"));
      // `id` is claimed by a new holder; the lapsed holder cannot touch that claim.
      const fresh = expectClaimed(await store.claim(id, "hash-a"));
      expect(fresh).not.toBe(expired);
      expect(await store.complete(id, expired)).toBe(false);
      expect(await store.release(id, expired)).toBe(false);
      expect(await store.claim(id, "hash-a")).toMatchObject({ status: "processing" });
      expect(await store.complete(id, fresh)).toBe(true);
    });

    it("keeps an extended record processing past its original lease", async () => {
      const leaseMs = 600;
      const store = await createStore({ leaseMs, retentionMs: LONG.retentionMs });
      const id = createEventId();
      const token = expectClaimed(await store.claim(id, "hash-a"));
      await sleep(400);
      // Without a length, `extend` grants a full store lease from now.
      expect(await store.extend(id, token)).toBe(true);
      await sleep(400);
      expect(await store.claim(id, "hash-a")).toMatchObject({ status: "processing", sameBody: true });
      expect(await store.complete(id, token)).toBe(true);
    });

    it("extends by an explicit length", async () => {
      const store = await createStore({ leaseMs: SHORT_LEASE_MS, retentionMs: LONG.retentionMs });
      const id = createEventId();
      const token = expectClaimed(await store.claim(id, "hash-a"));
      expect(await store.extend(id, token, 10_000)).toBe(true);
      await sleep(SHORT_LEASE_MS + MARGIN_MS);
      const second = await store.claim(id, "hash-a");
      expect(second).toMatchObject({ status: "processing", sameBody: true });
      if (second.status !== "processing") throw new Error("unreachable");
      expect(second.retryAfterMs).toBeGreaterThan(SHORT_LEASE_MS);
      expect(second.retryAfterMs).toBeLessThanOrEqual(10_000);
    });

    it("keeps completed records past the lease and until retention, then forgets them", async () => {
      const retentionMs = 1_200;
      const store = await createStore({ leaseMs: SHORT_LEASE_MS, retentionMs });
      const id = createEventId();
      const token = expectClaimed(await store.claim(id, "hash-a"));
      expect(await store.complete(id, token)).toBe(true);
      await sleep(SHORT_LEASE_MS + MARGIN_MS);
      expect(await store.claim(id, "hash-b")).toEqual({ status: "completed", sameBody: false });
      await sleep(retentionMs - SHORT_LEASE_MS);
      expectClaimed(await store.claim(id, "hash-b"));
    });

    it("hands out a different token on every claim", async () => {
      const store = await createStore(LONG);
      const id = createEventId();
      const tokens: string[] = [];
      for (let i = 0; i < 20; i++) {
        const token = expectClaimed(await store.claim(id, "hash-a"));
        tokens.push(token);
        expect(await store.release(id, token)).toBe(true);
      }
      const others = await Promise.all(
        Array.from({ length: 50 }, () => store.claim(createEventId(), "hash-a")),
      );
      for (const result of others) tokens.push(expectClaimed(result));
      expect(new Set(tokens).size).toBe(tokens.length);
    });
  });
}
