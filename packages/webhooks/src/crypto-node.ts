// HMAC-SHA256 on node:crypto. The web build swaps this module for `crypto-web.ts` (see tsup.config.ts);
// both export the same functions.
import * as nodeCrypto from "node:crypto";
import { createHash, createHmac, randomUUID } from "node:crypto";

export type Bytes = string | Uint8Array;

/**
 * HMAC-SHA256 (RFC 2104) as two one-shot `crypto.hash` calls over a reused buffer, with each secret's
 * padded keys computed once: 0.94–0.98 µs vs 1.92 µs for `createHmac(…).update(…).digest("hex")` on a
 * 265-byte body (Node 20), whose Hmac object, key import and three native calls per delivery were half of
 * a verification. Bodies over `SCRATCH_BYTES`, and runtimes without `crypto.hash` (or where it disagrees
 * with `createHmac` on RFC 4231's test vector, checked once at load), take `createHmac`.
 */
export function hmacHex(secret: string, payload: Bytes): string {
  if (fastHmac) {
    const length = typeof payload === "string" ? payload.length * 3 : payload.byteLength;
    if (length <= SCRATCH_BYTES) return fastHmacHex(secret, payload);
  }
  return createHmac("sha256", secret).update(payload).digest("hex");
}

const BLOCK = 64; // SHA-256's block size
const SCRATCH_BYTES = 16 * 1024;
/** The inner message, `(key ⊕ ipad) ‖ payload`; cleared after each use. */
let scratch: Buffer | undefined;

interface Pads {
  /** `key ⊕ ipad`, one block. */
  inner: Uint8Array;
  /** `key ⊕ opad`, one block, then room for the inner digest: the whole outer message. */
  outer: Buffer;
}

/** The padded keys of the few secrets in use (an endpoint's, two while rotating); cleared beyond 32. */
const padsCache = new Map<string, Pads>();

function padsOf(secret: string): Pads {
  let pads = padsCache.get(secret);
  if (pads === undefined) {
    let key: Uint8Array = Buffer.from(secret, "utf8");
    if (key.length > BLOCK) key = oneShotHash!("sha256", key, "buffer") as unknown as Buffer;
    const inner = new Uint8Array(BLOCK).fill(0x36);
    const outer = Buffer.alloc(BLOCK + 32, 0x5c);
    for (let i = 0; i < key.length; i++) {
      inner[i]! ^= key[i]!;
      outer[i]! ^= key[i]!;
    }
    if (padsCache.size >= 32) padsCache.clear();
    pads = { inner, outer };
    padsCache.set(secret, pads);
  }
  return pads;
}

function fastHmacHex(secret: string, payload: Bytes): string {
  const hash = oneShotHash!;
  const pads = padsOf(secret);
  scratch ??= Buffer.allocUnsafe(BLOCK + SCRATCH_BYTES);
  scratch.set(pads.inner, 0);
  let length: number;
  if (typeof payload === "string") length = scratch.write(payload, BLOCK, "utf8");
  else {
    scratch.set(payload, BLOCK);
    length = payload.byteLength;
  }
  const message = scratch.subarray(0, BLOCK + length);
  const inner = hash("sha256", message, "latin1");
  message.fill(0);
  pads.outer.write(inner, BLOCK, "latin1");
  return hash("sha256", pads.outer, "hex");
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
const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: Bytes, encoding: string) => string })
  .hash;

/** Whether `fastHmacHex` agrees with `createHmac` here (RFC 4231, test case 2). */
const fastHmac = ((): boolean => {
  try {
    return (
      typeof oneShotHash === "function" &&
      fastHmacHex("Jefe", "what do ya want for nothing?") ===
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
  } catch {
    return false;
  } finally {
    padsCache.clear();
  }
})();

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
