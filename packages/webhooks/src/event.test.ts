import { createEvent, DOCS_INVITATION_ACCEPTED, DOCS_USER_CREATED, fixtures } from "@optare/webhooks-testing";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EVENT_TYPES } from "./catalog";
import { WebhookError } from "./errors";
import { constructEvent, envelopeProblem, envelopeSchema, eventDataIssues, isKnownEvent } from "./event";
import { sign } from "./verify";

const secret = "0123456789abcdef".repeat(4);
const now = Date.parse("2025-11-11T12:00:00Z");
const clock = { now: () => now };

// The two sample payloads of Optare's documentation, byte for byte.

function deliver(body: string, options = {}) {
  return constructEvent(body, sign(body, secret), secret, { now: () => now, ...options });
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (WebhookError.is(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe("constructEvent", () => {
  it("accepts the seed documentation's sample payloads unchanged", () => {
    const created = deliver(DOCS_USER_CREATED);
    expect(created.event).toBe("user.created");
    expect(created).toEqual(JSON.parse(DOCS_USER_CREATED));
    // 14:30Z is 2.5 h after our clock: inside the 5 min skew only with a later clock.
    const accepted = deliver(DOCS_INVITATION_ACCEPTED, { now: () => Date.parse("2025-11-11T14:31:00Z") });
    expect(accepted).toEqual(JSON.parse(DOCS_INVITATION_ACCEPTED));
  });

  it.each(EVENT_TYPES)("validates the %s fixture", (type) => {
    const event = createEvent(type, { timestamp: new Date(now) });
    const received = deliver(JSON.stringify(event));
    expect(received).toEqual(event);
    expect(isKnownEvent(received)).toBe(true);
  });

  it("keeps unknown fields at every level (objects are open)", () => {
    const event = createEvent("session.created", { timestamp: new Date(now) });
    const extended = {
      ...event,
      deliveryAttempt: 2,
      organization: { ...event.organization, plan: "pro" },
      data: { ...event.data, geo: "FR", session: { ...fixtures["session.created"].session, mfa: true } },
    };
    expect(deliver(JSON.stringify(extended))).toEqual(extended);
  });

  it("passes unknown event types through untyped", () => {
    const body = JSON.stringify({
      event: "billing.invoice.paid",
      timestamp: new Date(now).toISOString(),
      id: "evt_new",
      data: { anything: [1, 2] },
      organization: { id: "org_abc", name: "Acme Inc" },
    });
    const event = deliver(body);
    expect(event.event).toBe("billing.invoice.paid");
    expect(isKnownEvent(event)).toBe(false);
    expect(event.data).toEqual({ anything: [1, 2] });
  });

  it("verifies the raw bytes, whatever their form", () => {
    const bytes = new TextEncoder().encode(DOCS_USER_CREATED);
    const signature = sign(DOCS_USER_CREATED, secret);
    for (const payload of [bytes, bytes.buffer, Buffer.from(bytes)]) {
      expect(constructEvent(payload, signature, secret, clock).id).toBe("evt_1a2b3c4d");
    }
  });

  it("accepts any configured secret (rotation)", () => {
    const signature = sign(DOCS_USER_CREATED, secret);
    expect(constructEvent(DOCS_USER_CREATED, signature, ["next-secret", secret], clock).id).toBe(
      "evt_1a2b3c4d",
    );
  });

  it("refuses a parsed body and says how to get the raw one", () => {
    const error = (() => {
      try {
        constructEvent(JSON.parse(DOCS_USER_CREATED), "00".repeat(32), secret);
      } catch (caught) {
        return caught as WebhookError;
      }
    })();
    expect(error?.code).toBe("raw_body_required");
    expect(error?.message).toMatch(/raw request body/);
    expect(error?.message).toMatch(/express\.raw/);
  });

  it("refuses to run without a secret", () => {
    for (const missing of [undefined, "", [], [""]]) {
      expect(
        codeOf(() => constructEvent(DOCS_USER_CREATED, sign(DOCS_USER_CREATED, secret), missing as never)),
      ).toBe("invalid_configuration");
    }
  });

  it.each([
    ["signature_missing", null],
    ["signature_missing", ""],
    ["signature_malformed", "abc"],
    ["signature_malformed", "g".repeat(64)],
    ["signature_malformed", "é".repeat(64)],
    ["signature_mismatch", "0".repeat(64)],
  ])("throws %s for signature %j", (code, signature) => {
    expect(codeOf(() => constructEvent(DOCS_USER_CREATED, signature, secret, clock))).toBe(code);
  });

  it("rejects a body signed with another secret or changed after signing", () => {
    expect(
      codeOf(() => constructEvent(DOCS_USER_CREATED, sign(DOCS_USER_CREATED, "other"), secret, clock)),
    ).toBe("signature_mismatch");
    const signature = sign(DOCS_USER_CREATED, secret);
    expect(
      codeOf(() => constructEvent(DOCS_USER_CREATED.replace("John", "Joan"), signature, secret, clock)),
    ).toBe("signature_mismatch");
  });

  it("enforces maxEventAge and the future skew on the event time, with an injectable clock", () => {
    const event = (offsetMs: number) =>
      JSON.stringify(createEvent("user.deleted", { timestamp: new Date(now + offsetMs) }));
    const hour = 3_600_000;
    expect(codeOf(() => deliver(event(-24 * hour + 1000)))).toBeUndefined();
    expect(codeOf(() => deliver(event(-24 * hour - 1000)))).toBe("event_too_old");
    expect(codeOf(() => deliver(event(-2 * hour), { maxEventAge: hour }))).toBe("event_too_old");
    expect(codeOf(() => deliver(event(4 * 60_000)))).toBeUndefined();
    expect(codeOf(() => deliver(event(6 * 60_000)))).toBe("event_in_future");
    expect(codeOf(() => deliver(event(6 * 60_000), { maxFutureSkew: 10 * 60_000 }))).toBeUndefined();
  });

  it.each([
    ["invalid_json", "not json"],
    ["invalid_json", '{"event":'],
    ["invalid_envelope", "[]"],
    ["invalid_envelope", "null"],
    ["invalid_envelope", '"user.created"'],
    ["invalid_envelope", '{"event":"user.created"}'],
    ["invalid_envelope", JSON.stringify({ ...JSON.parse(DOCS_USER_CREATED), timestamp: "yesterday" })],
    ["invalid_envelope", JSON.stringify({ ...JSON.parse(DOCS_USER_CREATED), data: [] })],
    ["invalid_envelope", JSON.stringify({ ...JSON.parse(DOCS_USER_CREATED), organization: { id: 1 } })],
    ["invalid_envelope", JSON.stringify({ ...JSON.parse(DOCS_USER_CREATED), id: "" })],
  ])("throws %s (400) for body #%#", (code, body) => {
    let status: number | undefined;
    try {
      deliver(body);
    } catch (error) {
      expect((error as WebhookError).code).toBe(code);
      status = (error as WebhookError).status;
    }
    expect(status).toBe(400);
  });

  it("throws invalid_json for bytes that are not UTF-8", () => {
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    expect(codeOf(() => constructEvent(bytes, sign(bytes, secret), secret, clock))).toBe("invalid_json");
  });

  it("rejects a known event whose data breaks its schema with 422, naming the path but not the value", () => {
    const body = JSON.stringify({ ...JSON.parse(DOCS_USER_CREATED), data: { user: { id: "u", email: 42 } } });
    try {
      deliver(body);
      expect.unreachable();
    } catch (error) {
      const webhookError = error as WebhookError;
      expect(webhookError.code).toBe("invalid_event_data");
      expect(webhookError.status).toBe(422);
      expect(webhookError.message).toMatch(/user\.email/);
      expect(webhookError.message).not.toMatch(/42/);
    }
  });

  it("says what each failing field expected, with zod/mini's own messages absent", () => {
    const body = JSON.stringify({
      ...JSON.parse(DOCS_USER_CREATED),
      data: { user: { id: "u", email: 42, emailVerified: true, createdAt: "2025-11-11T10:30:00Z" } },
    });
    expect(() => deliver(body)).toThrow(
      "The data of user.created does not match its schema (user.email: expected string, received number; " +
        "user.name: required).",
    );
  });

  it("accepts invalid data unvalidated when asked to", () => {
    const data = { user: { id: "u" } };
    const body = JSON.stringify({ ...JSON.parse(DOCS_USER_CREATED), data });
    expect(deliver(body, { invalidData: "accept" }).data).toEqual(data);
  });

  it("never leaks the secret, the expected signature or the payload in its errors (property)", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (body, signature) => {
        try {
          constructEvent(body, signature, secret, clock);
        } catch (error) {
          const text = `${(error as Error).message} ${JSON.stringify(error)}`;
          expect(WebhookError.is(error)).toBe(true);
          expect(text).not.toContain(secret);
          expect(text).not.toContain(sign(body, secret));
          if (body.length > 8) expect(text).not.toContain(body);
        }
      }),
    );
  });

  it("only ever throws WebhookError, whatever the body (property)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.uint8Array()), (payload) => {
        try {
          constructEvent(payload, sign(payload, secret), secret, clock);
        } catch (error) {
          expect(WebhookError.is(error)).toBe(true);
          expect((error as WebhookError).status).toBeLessThan(500);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("eventDataIssues", () => {
  it("is empty for every fixture", () => {
    for (const type of EVENT_TYPES) expect(eventDataIssues(type, fixtures[type])).toEqual([]);
  });

  it("names each failing field and what it expected, never the value", () => {
    const issues = eventDataIssues("oauth.client.created", {
      client: { id: "client_1", name: null, redirectUris: ["https://a.example", 7] },
    });
    expect(issues).toEqual([
      { path: "client.name", message: "expected string, received null" },
      { path: "client.redirectUris.1", message: "expected string, received number" },
    ]);
    expect(eventDataIssues("user.deleted", [])).toEqual([
      { path: "", message: "expected object, received array" },
    ]);
  });
});

describe("envelopeProblem", () => {
  it("agrees with envelopeSchema on any value (property)", () => {
    const envelopeLike = fc.record(
      {
        event: fc.oneof(fc.string(), fc.constant("user.created"), fc.integer()),
        id: fc.oneof(fc.string(), fc.constant("")),
        timestamp: fc.oneof(
          fc.constant("2025-11-11T10:30:00Z"),
          fc.string(),
          fc.date().map((d) => (Number.isNaN(d.getTime()) ? "x" : d.toISOString())),
        ),
        data: fc.oneof(fc.object(), fc.array(fc.integer()), fc.constant(null)),
        organization: fc.oneof(
          fc.record({ id: fc.string(), name: fc.string() }),
          fc.record({ id: fc.integer() }),
          fc.constant(null),
        ),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(envelopeLike, fc.jsonValue()), (value) => {
        expect(envelopeProblem(value) === null).toBe(envelopeSchema.safeParse(value).success);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("constructEvent: only WebhookErrors, whatever the input", () => {
  const body = JSON.stringify(createEvent("user.created", { timestamp: new Date(now).toISOString() }));
  const signature = sign(body, secret);

  function thrown(run: () => unknown): unknown {
    try {
      run();
    } catch (error) {
      return error;
    }
    throw new Error("expected a throw");
  }

  it("throws raw_body_required for a detached ArrayBuffer, not a TypeError", () => {
    const buffer = new TextEncoder().encode(body).buffer as ArrayBuffer;
    structuredClone(buffer, { transfer: [buffer] }); // detaches it
    const error = thrown(() => constructEvent(buffer, signature, secret, clock));
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ code: "raw_body_required" });
  });

  it.each([
    ["options: null", null, "invalid_configuration"],
    ["options: 'strict'", "strict", "invalid_configuration"],
    ["maxEventAge: NaN", { ...clock, maxEventAge: Number.NaN }, "invalid_configuration"],
    ["now: 'yesterday'", { now: "yesterday" }, "invalid_configuration"],
    [
      "a clock that throws",
      {
        now: () => {
          throw new RangeError("clock unavailable");
        },
      },
      "internal_error",
    ],
  ])("throws a WebhookError for %s", (_, options, code) => {
    const error = thrown(() => constructEvent(body, signature, secret, options as never));
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ code });
  });

  it.each([
    ["undefined", undefined],
    ["an empty list", []],
    ["a list with a hole", [secret, undefined]],
    ["a number", 42],
    ["a secret with a trailing newline", `${secret}\n`],
  ])("throws invalid_configuration for a secret that is %s", (_, secrets) => {
    expect(thrown(() => constructEvent(body, signature, secrets as never, clock))).toMatchObject({
      code: "invalid_configuration",
    });
  });
});

describe("timestamps: ISO-8601 with a zone only", () => {
  const at = (timestamp: string) => {
    const body = JSON.stringify({ ...createEvent("user.created"), timestamp });
    return codeOf(() => constructEvent(body, sign(body, secret), secret, clock));
  };

  it.each([
    "2025-11-11T11:30:00Z",
    "2025-11-11T11:30:00.123Z",
    "2025-11-11T11:30:00.123456Z",
    "2025-11-11T12:30:00+01:00",
    "2025-11-11T06:30:00-05:00",
    "2025-11-11T11:30Z",
  ])("accepts %s", (timestamp) => {
    expect(at(timestamp)).toBeUndefined();
  });

  it.each([
    ["a zone-less local time", "2025-11-11T11:30:00"],
    ["a date alone", "2025-11-11"],
    ["an English date", "Nov 11 2025 11:30:00 GMT"],
    ["an RFC 2822 date", "Tue, 11 Nov 2025 11:30:00 GMT"],
    ["a zone without a colon", "2025-11-11T11:30:00+0000"],
    ["an impossible month", "2025-13-11T11:30:00Z"],
    ["epoch milliseconds as a string", "1762860600000"],
    ["a space for the T (V8 reads 0011-11-25 10:30:00Z as 2025)", "0011-11-25 10:30:00Z"],
  ])("rejects %s (%s) as an invalid envelope", (_, timestamp) => {
    expect(at(timestamp)).toBe("invalid_envelope");
  });

  it("keeps envelopeSchema in step", () => {
    const event = createEvent("user.created");
    expect(envelopeSchema.safeParse({ ...event, timestamp: "2025-11-11T11:30:00" }).success).toBe(false);
    expect(envelopeSchema.safeParse({ ...event, timestamp: "2025-11-11T11:30:00Z" }).success).toBe(true);
  });
});
