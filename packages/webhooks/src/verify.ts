import { type Bytes, equalHex, hmacHex } from "./crypto-node";

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

const keyCache = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();

function importKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (key === undefined) {
    if (keyCache.size >= 32) keyCache.clear();
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "verify",
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

/**
 * `verifySignature` on Web Crypto (`crypto.subtle`), for runtimes without `node:crypto`: Vercel Edge,
 * Cloudflare Workers, Deno, Bun, browsers. Same semantics; resolves to false, never rejects.
 */
export async function verifySignatureAsync(
  payload: Payload,
  signature: string | null | undefined,
  secrets: Secrets,
): Promise<boolean> {
  try {
    const hex = parseSignature(signature);
    const bytes = toBytes(payload);
    if (hex === null || bytes === null) return false;
    const expected = new Uint8Array(32);
    for (let i = 0; i < 32; i++) expected[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    const data = typeof bytes === "string" ? encoder.encode(bytes) : bytes;
    for (const secret of secretList(secrets)) {
      // subtle.verify compares in constant time.
      if (
        await crypto.subtle.verify(
          "HMAC",
          await importKey(secret),
          expected as BufferSource,
          data as BufferSource,
        )
      ) {
        return true;
      }
    }
    return false;
  } catch {
    return false;
  }
}
