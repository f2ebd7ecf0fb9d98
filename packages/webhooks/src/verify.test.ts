import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import * as web from "./crypto-web";
import {
  equalHex,
  parseSignature,
  SIGNATURE_HEADER,
  sign,
  signatureBytes,
  verifySignature,
  verifySignatureAsync,
} from "./verify";

// The two vectors of SPEC §1.
const simple = {
  secret: "It's a Secret to Everybody",
  body: "Hello, World!",
  signature: "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
};
const hexSecret = {
  secret: "0123456789abcdef".repeat(4),
  body: '{"event":"user.created","timestamp":"2025-11-11T10:30:00Z","id":"evt_1a2b3c4d","data":{"user":{"id":"user_123","email":"john@example.com","name":"John Doe","emailVerified":false,"createdAt":"2025-11-11T10:30:00Z"}},"organization":{"id":"org_abc","name":"Acme Inc"}}',
  signature: "e6d5c938050a5b23795883699f2a3a58ecef6b1a1e06b88e3c7d8a92fd748a78",
};
// What a receiver that hex-decodes the secret would compute: Optare never signs like that.
const hexDecodedKeySignature = createHmac("sha256", Buffer.from(hexSecret.secret, "hex"))
  .update(hexSecret.body)
  .digest("hex");

const verifiers = {
  verifySignature: async (...args: Parameters<typeof verifySignature>) => verifySignature(...args),
  verifySignatureAsync,
};

describe("parseSignature", () => {
  it("accepts exactly 64 hex digits of either case, lower-cased", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ minLength: 64, maxLength: 64 }), fc.stringMatching(/^[0-9a-fA-F]{64}$/)),
        (s) => {
          expect(parseSignature(s)).toBe(/^[0-9a-fA-F]{64}$/.test(s) ? s.toLowerCase() : null);
        },
      ),
    );
    // Characters whose lower case is ASCII (the Kelvin sign is "k") are still not hex digits.
    expect(parseSignature(`${"a".repeat(63)}\u212a`)).toBeNull();
  });
});

describe("signatureBytes", () => {
  it("decodes exactly what parseSignature accepts (property)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ minLength: 64, maxLength: 64, unit: "binary" }),
          fc.stringMatching(/^[0-9a-fA-F]{64}$/),
          // One character of valid hex replaced by any other code unit.
          fc
            .tuple(fc.stringMatching(/^[0-9a-fA-F]{64}$/), fc.nat(63), fc.integer({ min: 0, max: 0xffff }))
            .map(([hex, i, code]) => hex.slice(0, i) + String.fromCharCode(code) + hex.slice(i + 1)),
        ),
        (s) => {
          const bytes = signatureBytes(s);
          const parsed = parseSignature(s);
          expect(bytes === null ? null : Buffer.from(bytes).toString("hex")).toBe(parsed);
        },
      ),
      { numRuns: 1000 },
    );
    for (const c of "/:@G`g\u212a\uff41") expect(signatureBytes(c.repeat(64))).toBeNull();
    expect(signatureBytes("0".repeat(63))).toBeNull();
    expect(signatureBytes(42)).toBeNull();
  });
});

describe("sign", () => {
  it("matches both SPEC vectors", () => {
    expect(sign(simple.body, simple.secret)).toBe(simple.signature);
    expect(sign(hexSecret.body, hexSecret.secret)).toBe(hexSecret.signature);
  });

  it("signs bytes and strings alike", () => {
    const bytes = new TextEncoder().encode(hexSecret.body);
    expect(sign(bytes, hexSecret.secret)).toBe(hexSecret.signature);
    expect(sign(bytes.buffer, hexSecret.secret)).toBe(hexSecret.signature);
    expect(sign(Buffer.from(hexSecret.body), hexSecret.secret)).toBe(hexSecret.signature);
  });

  it("uses the secret as text, not hex-decoded", () => {
    expect(hexDecodedKeySignature.startsWith("83288b0b")).toBe(true);
    expect(sign(hexSecret.body, hexSecret.secret)).not.toBe(hexDecodedKeySignature);
  });

  it("refuses an empty secret or a non-raw payload", () => {
    expect(() => sign("x", "")).toThrow(TypeError);
    expect(() => sign({ a: 1 } as never, "s")).toThrow(TypeError);
  });

  it("exposes the header name in the form Headers and Node both use", () => {
    expect(SIGNATURE_HEADER).toBe("x-optare-signature");
  });

  it("equals node:crypto's createHmac for any secret and payload, on either side of the fast path's limit (property)", () => {
    // sign() computes the HMAC itself from two one-shot hashes (crypto-node.ts); createHmac is the reference.
    const around16KiB = fc.integer({ min: 16 * 1024 - 8, max: 16 * 1024 + 8 });
    const payload = fc.oneof(
      fc.string({ unit: "grapheme", maxLength: 300 }),
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.uint8Array({ maxLength: 600 }),
      around16KiB.map((length) => new Uint8Array(length).fill(7)),
      around16KiB.map((length) => "é".repeat(Math.floor(length / 3))), // around the limit for strings (3 bytes a unit)
    );
    const secret = fc.oneof(
      fc.string({ minLength: 1, maxLength: 80, unit: "grapheme" }), // over 64 bytes: hashed first
      fc.stringMatching(/^[0-9a-f]{64}$/),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(secret, payload), { minLength: 1, maxLength: 4 }), (cases) => {
        for (const [key, body] of cases) {
          expect(sign(body, key)).toBe(createHmac("sha256", key).update(body).digest("hex"));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe.each(Object.entries(verifiers))("%s", (_, verify) => {
  it("accepts both SPEC vectors", async () => {
    expect(await verify(simple.body, simple.signature, simple.secret)).toBe(true);
    expect(await verify(hexSecret.body, hexSecret.signature, hexSecret.secret)).toBe(true);
    expect(
      await verify(new TextEncoder().encode(hexSecret.body), hexSecret.signature, hexSecret.secret),
    ).toBe(true);
  });

  it("rejects the signature made with the hex-decoded key", async () => {
    expect(await verify(hexSecret.body, hexDecodedKeySignature, hexSecret.secret)).toBe(false);
  });

  it("accepts upper-case hex (the same digest)", async () => {
    expect(await verify(simple.body, simple.signature.toUpperCase(), simple.secret)).toBe(true);
  });

  it("accepts any of several secrets (rotation) and rejects when none matches", async () => {
    expect(await verify(simple.body, simple.signature, ["new-secret", simple.secret])).toBe(true);
    expect(await verify(simple.body, simple.signature, ["new-secret", "other"])).toBe(false);
    expect(await verify(simple.body, simple.signature, [])).toBe(false);
  });

  it("rejects a tampered body and a flipped signature bit", async () => {
    expect(await verify(`${simple.body} `, simple.signature, simple.secret)).toBe(false);
    const flipped = `${simple.signature.slice(0, 63)}${simple.signature.endsWith("7") ? "6" : "7"}`;
    expect(await verify(simple.body, flipped, simple.secret)).toBe(false);
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["empty", ""],
    ["too short", simple.signature.slice(0, 63)],
    ["too long", `${simple.signature}0`],
    ["non-hex of the right length", `${simple.signature.slice(0, 62)}zz`],
    ["non-ASCII of the right length", `${simple.signature.slice(0, 62)}é€`],
    // Each character shifted by 0x100: same low bytes, so a latin1 comparison would wrongly accept it.
    [
      "look-alike (same low bytes)",
      [...simple.signature].map((c) => String.fromCharCode(c.charCodeAt(0) + 0x100)).join(""),
    ],
    // A fullwidth letter (U+FF41…) in place of an ASCII hex letter.
    [
      "fullwidth hex letter",
      simple.signature.replace(/[a-f]/, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)),
    ],
    ["whitespace-padded", ` ${simple.signature.slice(1)}`],
    ["a sha256= prefix", `sha256=${simple.signature}`],
    ["a number", 42],
    ["an array", [simple.signature]],
  ])("answers false, without throwing, for a %s signature", async (_, signature) => {
    expect(await verify(simple.body, signature as never, simple.secret)).toBe(false);
  });

  it.each([
    ["an empty secret", ""],
    ["an undefined secret", undefined],
    ["a null secret", null],
    ["a numeric secret", 7],
  ])("answers false for %s", async (_, secret) => {
    expect(await verify(simple.body, simple.signature, secret as never)).toBe(false);
  });

  it.each([
    ["a parsed object", { a: 1 }],
    ["null", null],
    ["a number", 5],
  ])("answers false for %s as payload", async (_, payload) => {
    expect(await verify(payload as never, simple.signature, simple.secret)).toBe(false);
  });

  it("never throws and accepts exactly the right HMAC (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.uint8Array({ maxLength: 512 })),
        fc.string({ minLength: 1 }),
        fc.oneof(fc.string(), fc.string({ minLength: 64, maxLength: 64 }), fc.constant(null)),
        async (payload, secret, signature) => {
          const expected = createHmac("sha256", secret).update(payload).digest("hex");
          expect(await verify(payload, expected, secret)).toBe(true);
          expect(await verify(payload, signature, secret)).toBe(signature?.toLowerCase() === expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects every single-character change of a valid signature (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(63), fc.constantFrom(..."0123456789abcdefg"), async (index, char) => {
        const changed = simple.signature.slice(0, index) + char + simple.signature.slice(index + 1);
        expect(await verify(simple.body, changed, simple.secret)).toBe(changed === simple.signature);
      }),
    );
  });
});

describe("verifySignatureAsync", () => {
  const usable = (secrets: unknown): string[] =>
    (Array.isArray(secrets) ? secrets : [secrets]).filter((s) => typeof s === "string" && s.length > 0);

  it("agrees with verifySignature on any body, secrets and signature (property)", async () => {
    const body = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.uint8Array({ maxLength: 512 }),
      fc.uint8Array({ maxLength: 512 }).map((bytes) => bytes.slice().buffer),
      fc.uint8Array({ maxLength: 64 }).map((bytes) => {
        const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
        shared.set(bytes);
        return shared;
      }),
    );
    const secret = fc.oneof(fc.string({ minLength: 1 }), fc.string({ unit: "binary" }));
    const secrets = fc.oneof(
      secret,
      fc.array(fc.oneof(secret, fc.constant(""), fc.constant(null), fc.integer()), { maxLength: 4 }),
      fc.constantFrom(undefined, null, ""),
    );
    // How the signature is made: by one of the usable secrets (as is, upper-cased, or with one digit
    // changed), or at random.
    const signature = fc.oneof(
      fc.record({ signer: fc.nat(), upper: fc.boolean(), change: fc.option(fc.nat(63)) }),
      fc.stringMatching(/^[0-9a-fA-F]{64}$/),
      fc.string({ minLength: 64, maxLength: 64, unit: "binary" }),
      fc.string(),
      fc.constantFrom(null, undefined),
    );
    await fc.assert(
      fc.asyncProperty(body, secrets, signature, async (payload, secrets, how) => {
        let candidate = how;
        if (how !== null && typeof how === "object") {
          const keys = usable(secrets);
          if (keys.length === 0) return;
          let hex = sign(payload, keys[how.signer % keys.length]!);
          if (how.change !== null) {
            const digit = hex[how.change] === "0" ? "1" : "0";
            hex = hex.slice(0, how.change) + digit + hex.slice(how.change + 1);
          }
          candidate = how.upper ? hex.toUpperCase() : hex;
        }
        const args = [payload, candidate as string | null, secrets as string[]] as const;
        expect(await verifySignatureAsync(...args)).toBe(verifySignature(...args));
      }),
      { numRuns: 500 },
    );
  });

  it("verifies a body in a SharedArrayBuffer, as verifySignature does", async () => {
    const shared = new Uint8Array(new SharedArrayBuffer(simple.body.length));
    shared.set(new TextEncoder().encode(simple.body));
    expect(verifySignature(shared, simple.signature, simple.secret)).toBe(true);
    expect(await verifySignatureAsync(shared, simple.signature, simple.secret)).toBe(true);
  });

  it("agrees with verifySignature on the Web build's HMAC (Web Crypto) too (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1 }),
        fc.oneof(
          fc.string({ unit: "binary" }),
          fc.uint8Array({ maxLength: 512 }),
          fc.uint8Array({ maxLength: 64 }).map((bytes) => {
            const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
            shared.set(bytes);
            return shared;
          }),
        ),
        async (secret, payload) => {
          const digest = Buffer.from(await web.hmacAsync(secret, payload)).toString("hex");
          expect(digest).toBe(sign(payload, secret));
        },
      ),
      { numRuns: 200 },
    );
  });
});

// Web Crypto's key cache, in the Web build's HMAC (on Node, verifySignatureAsync uses node:crypto).
describe("the Web build's async HMAC", () => {
  const { KEY_CACHE_SIZE } = web;
  const hex = async (secret: string, body: string) =>
    Buffer.from(await web.hmacAsync(secret, body)).toString("hex");
  const verify = async (secret: string) => (await hex(secret, simple.body)) === sign(simple.body, secret);

  it(`keeps at most ${KEY_CACHE_SIZE} imported keys, evicting the least recently used`, async () => {
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    try {
      const secrets = Array.from({ length: KEY_CACHE_SIZE + 1 }, (_, i) => `key-cache-${i}`);
      for (const secret of secrets.slice(0, KEY_CACHE_SIZE)) expect(await verify(secret)).toBe(true);
      expect(importKey).toHaveBeenCalledTimes(KEY_CACHE_SIZE);
      // A hit moves the first secret's key to the front: the second is now the least recently used.
      expect(await verify(secrets[0]!)).toBe(true);
      expect(importKey).toHaveBeenCalledTimes(KEY_CACHE_SIZE);
      // One secret too many evicts the second's key, and only that one.
      expect(await verify(secrets[KEY_CACHE_SIZE]!)).toBe(true);
      expect(importKey).toHaveBeenCalledTimes(KEY_CACHE_SIZE + 1);
      for (const secret of [secrets[0]!, ...secrets.slice(2)]) expect(await verify(secret)).toBe(true);
      expect(importKey).toHaveBeenCalledTimes(KEY_CACHE_SIZE + 1);
      expect(await verify(secrets[1]!)).toBe(true);
      expect(importKey).toHaveBeenCalledTimes(KEY_CACHE_SIZE + 2);
    } finally {
      importKey.mockRestore();
    }
  });

  it("imports a new secret's key once for verifications that overlap", async () => {
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    try {
      const secret = "overlapping-first-calls";
      const verdicts = await Promise.all(Array.from({ length: 8 }, () => verify(secret)));
      expect(verdicts).toEqual(Array(8).fill(true));
      expect(importKey).toHaveBeenCalledTimes(1);
    } finally {
      importKey.mockRestore();
    }
  });

  it("does not keep a key whose import failed", async () => {
    const importKey = vi.spyOn(crypto.subtle, "importKey").mockRejectedValueOnce(new Error("boom"));
    try {
      await expect(web.hmacAsync("failed-import", simple.body)).rejects.toThrow("boom");
      expect(await verify("failed-import")).toBe(true);
      expect(importKey).toHaveBeenCalledTimes(2);
    } finally {
      importKey.mockRestore();
    }
  });
});

describe("the Web build's HMAC (no node:crypto)", () => {
  it("matches node:crypto for any key and message (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }), (secret, payload) => {
        expect(web.hmacHex(secret, payload)).toBe(createHmac("sha256", secret).update(payload).digest("hex"));
      }),
      { numRuns: 300 },
    );
  });

  it("handles block boundaries and keys longer than a block", () => {
    for (const length of [0, 55, 56, 63, 64, 65, 119, 120, 1000, 70_000]) {
      const payload = "x".repeat(length);
      expect(web.hmacHex("k".repeat(length % 200), payload)).toBe(
        createHmac("sha256", "k".repeat(length % 200))
          .update(payload)
          .digest("hex"),
      );
    }
  });

  it("compares hex digests in full", () => {
    const a = "ab".repeat(32);
    expect(equalHex(a, `${a}`)).toBe(true);
    expect(equalHex(a, `${a.slice(0, 63)}c`)).toBe(false);
    expect(equalHex(a, a.slice(0, 62))).toBe(false);
  });
});
