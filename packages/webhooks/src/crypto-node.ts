// HMAC-SHA256 on node:crypto. The web build swaps this module for `crypto-web.ts` (see tsup.config.ts);
// both export the same functions.
import * as nodeCrypto from "node:crypto";
import { createHash, createHmac, randomUUID } from "node:crypto";

export type Bytes = string | Uint8Array;

// Hex digests throughout: on Node 20 `digest("hex")` is ~1.5× faster than `digest()` into a Buffer.
export function hmacHex(secret: string, payload: Bytes): string {
  return createHmac("sha256", secret).update(payload).digest("hex");
}

/** SHA-256 of the body, base64url: the idempotency record's `bodyHash`. */
export function digest(payload: Bytes): string {
  return oneShotHash
    ? oneShotHash("sha256", payload, "base64url")
    : createHash("sha256").update(payload).digest("base64url");
}

/**
 * `crypto.hash` (Node ≥ 20.12): 564 vs 1180 ns for `createHash` on a 265-byte body (Node 20, bench/harness.mjs
 * `compare`). Read from the namespace so that older Node 20 releases, which lack it, still load the module.
 */
const oneShotHash = (
  nodeCrypto as { hash?: (algorithm: string, data: Bytes, encoding: "base64url") => string }
).hash;

/**
 * `verifySignatureAsync`'s HMAC on Node: node:crypto, settled at once. `crypto.subtle.sign` with a cached
 * key costs 5–14× the synchronous floor at 265 bytes (a round trip to libuv's thread pool per call); the
 * whole `verifySignatureAsync` on this costs 1.5× (bench/verify-async.bench.mjs, 2026-12-07).
 */
export function hmacAsync(secret: string, payload: Bytes): Promise<Uint8Array> {
  return Promise.resolve(createHmac("sha256", secret).update(payload).digest());
}

/**
 * A random token (a v4 UUID: 122 random bits; ~10× cheaper than `getRandomValues` on Node 20). From
 * node:crypto rather than `globalThis.crypto`, whose first use loads Web Crypto: 1–14 ms of a cold start.
 */
export const randomToken: () => string = randomUUID;
