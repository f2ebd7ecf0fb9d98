import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as web from "./crypto-web";
import { parseSignature, SIGNATURE_HEADER, sign, verifySignature, verifySignatureAsync } from "./verify";

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
    expect(web.equalHex(a, `${a}`)).toBe(true);
    expect(web.equalHex(a, `${a.slice(0, 63)}c`)).toBe(false);
    expect(web.equalHex(a, a.slice(0, 62))).toBe(false);
  });
});
