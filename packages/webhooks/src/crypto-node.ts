// HMAC-SHA256 on node:crypto. The web build swaps this module for `crypto-web.ts` (see tsup.config.ts);
// both export the same functions.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export type Bytes = string | Uint8Array;

// Hex digests throughout: on Node 20 `digest("hex")` is ~1.5× faster than `digest()` into a Buffer.
export function hmacHex(secret: string, payload: Bytes): string {
  return createHmac("sha256", secret).update(payload).digest("hex");
}

/** Constant-time equality of a lowercase hex digest and a candidate of the same length in characters. */
export function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y); // Unequal only when `b` is not ASCII.
}

/** SHA-256 of the body, base64url: the idempotency record's `bodyHash`. */
export function digest(payload: Bytes): string {
  return createHash("sha256").update(payload).digest("base64url");
}
