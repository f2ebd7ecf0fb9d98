import { type Bytes, hmacAsync, hmacHex } from "./crypto-node";

/** The header that carries the signature. Lower-case, so it works with `Headers` and Node's `req.headers`. */
export const SIGNATURE_HEADER = "x-optare-signature";

/** The raw body as received: a string, or bytes (`Uint8Array`, `Buffer`, `ArrayBuffer`). */
export type Payload = string | Uint8Array | ArrayBuffer;

/** One endpoint secret, or several while rotating (any of them may sign). */
export type Secrets = string | readonly string[];

/** The payload as a string or a byte view, or null when it is not a raw body at all (or a detached buffer). */
export function toBytes(payload: unknown): Bytes | null {
  if (typeof payload === "string" || payload instanceof Uint8Array) return payload;
  if (payload instanceof ArrayBuffer) {
    try {
      return new Uint8Array(payload);
    } catch {
      return null; // Detached (transferred): its bytes are gone.
    }
  }
  return null;
}

const HEX_SIGNATURE = /^[0-9a-fA-F]{64}$/;

/** The signature in the digest's form (64 lowercase hex characters), or null when it is not hex of that length. */
export function parseSignature(signature: unknown): string | null {
  return typeof signature === "string" && HEX_SIGNATURE.test(signature) ? signature.toLowerCase() : null;
}

/**
 * The signature lower-cased when it has a digest's length, else null: enough to compare it with digests,
 * since only hex can equal one. Checking that it is hex (a regular expression costs ~10% of a whole
 * verification of a small body) is left to the failure path, where it only picks the error code.
 */
export function signatureCandidate(signature: unknown): string | null {
  return typeof signature === "string" && signature.length === 64 ? signature.toLowerCase() : null;
}

/** The usable secrets: non-empty strings only. */
export function secretList(secrets: unknown): string[] {
  const list = Array.isArray(secrets) ? secrets : [secrets];
  return list.filter((secret): secret is string => typeof secret === "string" && secret.length > 0);
}

/**
 * Signs a payload the way Optare does: lowercase hex HMAC-SHA256 of the exact bytes, keyed with the
 * secret's UTF-8 bytes (the 64-character secret is used as text, never hex-decoded).
 */
export function sign(payload: Payload, secret: string): string {
  const bytes = toBytes(payload);
  if (bytes === null) throw new TypeError("sign(payload, secret): payload must be a string or bytes");
  if (typeof secret !== "string" || secret.length === 0) {
    throw new TypeError("sign(payload, secret): secret must be a non-empty string");
  }
  return hmacHex(secret, bytes);
}

/**
 * Constant-time equality of a lowercase hex digest and a candidate of the same length in characters: every
 * character is compared, wherever the first difference is. By char code rather than two `Buffer.from` and
 * `timingSafeEqual`: 119 vs 411 ns on Node 20 (bench/harness.mjs `compare`), ~10% of a 265-byte verify.
 */
export function equalHex(a: string, b: string): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** True when `expected` (a parsed signature) is the HMAC of `bytes` under one of the non-empty `secrets`. */
export function signedByAny(bytes: Bytes, expected: string, secrets: readonly string[]): boolean {
  for (const secret of secrets) {
    if (secret.length > 0 && equalHex(hmacHex(secret, bytes), expected)) return true;
  }
  return false;
}

/**
 * True when `signature` is the HMAC of `payload` under any of `secrets`. Constant-time, synchronous,
 * and total: any input (null, wrong length, non-hex, non-ASCII, a parsed object) gives false, never an
 * exception. Hex digits are accepted in either case.
 */
export function verifySignature(
  payload: Payload,
  signature: string | null | undefined,
  secrets: Secrets,
): boolean {
  try {
    const expected = signatureCandidate(signature);
    const bytes = toBytes(payload);
    if (expected === null || bytes === null) return false;
    return signedByAny(bytes, expected, typeof secrets === "string" ? [secrets] : secretList(secrets));
  } catch {
    return false;
  }
}

/** A hex digit's value, or -1 when `code` is not one (either case). */
function nibble(code: number): number {
  const digit = code - 48; // "0"
  const letter = (code | 32) - 97; // "a", or "A" lower-cased
  return digit >>> 0 < 10 ? digit : letter >>> 0 < 6 ? letter + 10 : -1;
}

/**
 * The 32 bytes that a signature of 64 hex digits (either case) spells, else null. Decoding by char
 * code takes 0.2 µs, where the regular expression and a `parseInt` per byte took 1.8 µs: 9–13% of a
 * whole `verifySignatureAsync` of a 265-byte body on Node 20 (bench/verify-async.bench.mjs).
 */
export function signatureBytes(signature: unknown): Uint8Array | null {
  if (typeof signature !== "string" || signature.length !== 64) return null;
  const bytes = new Uint8Array(32);
  let invalid = 0;
  for (let i = 0; i < 32; i++) {
    const high = nibble(signature.charCodeAt(2 * i));
    const low = nibble(signature.charCodeAt(2 * i + 1));
    invalid |= high | low;
    bytes[i] = (high << 4) | low;
  }
  return invalid < 0 ? null : bytes;
}

/** Constant-time equality of two digests: every byte is compared, wherever the first difference is. */
function equalDigests(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < b.length; i++) diff |= (a[i] ?? 0) ^ b[i]!;
  return diff === 0;
}

/**
 * `verifySignature` for runtimes without `node:crypto` (Vercel Edge, Cloudflare Workers, Deno, Bun,
 * browsers), where it runs on Web Crypto (`crypto.subtle`, imported keys cached per secret). Same
 * semantics; resolves to false, never rejects. On Node it computes the HMAC with node:crypto: a
 * `crypto.subtle.sign` there is a round trip to libuv's thread pool, alone 5–14× the synchronous
 * floor at 265 bytes (bench/verify-async.bench.mjs).
 */
export async function verifySignatureAsync(
  payload: Payload,
  signature: string | null | undefined,
  secrets: Secrets,
): Promise<boolean> {
  try {
    const expected = signatureBytes(signature);
    const bytes = toBytes(payload);
    if (expected === null || bytes === null) return false;
    for (const secret of secretList(secrets)) {
      if (equalDigests(await hmacAsync(secret, bytes), expected)) return true;
    }
    return false;
  } catch {
    return false;
  }
}
