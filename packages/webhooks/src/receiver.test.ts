// Every row of SPEC §3's decision table, through the public `handle(Request)`.
import { createEvent, signEvent } from "@optare/webhooks-testing";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { EVENT_TYPES } from "./catalog";
import { memoryStore } from "./memory-store";
import { createWebhooks, type LogEntry, type WebhooksOptions } from "./receiver";
import { type IdempotencyStore, localStoreOf } from "./store";
import { sign } from "./verify";

const secret = "0123456789abcdef".repeat(4);
const url = "http://localhost/webhooks/optare";

function post(body: BodyInit | null, headers: Record<string, string> = {}, init: RequestInit = {}): Request {
  return new Request(url, { method: "POST", body, headers, ...init });
}

function signed(event: unknown, key = secret): Request {
  const { body, headers } = signEvent(event, key);
  return post(body, headers);
}

function receiver(options: Partial<WebhooksOptions> = {}) {
  const logs: LogEntry[] = [];
  const webhooks = createWebhooks({ secret, log: (entry) => logs.push(entry), logger: false, ...options });
  return { webhooks, logs };
}

async function answer(response: Response) {
  return { status: response.status, body: await response.json(), headers: response.headers };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("createWebhooks: the decision table", () => {
  it.each(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])(
    "answers %s with 405 and Allow: POST",
    async (method) => {
      const { webhooks } = receiver();
      const response = await webhooks.handle(new Request(url, { method }));
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("POST");
    },
  );

  it("answers 413 on a declared Content-Length over the limit, then drains the body rather than cancel it", async () => {
    const { webhooks } = receiver({ maxBodyBytes: 100 });
    let served = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (++served === 3) controller.close();
          else controller.enqueue(new Uint8Array(60));
        },
        cancel: () => {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const response = await webhooks.handle(
      post(body, { "content-length": "120" }, { duplex: "half" } as RequestInit),
    );
    expect(response.status).toBe(413);
    expect((await answer(response)).body.error.code).toBe("payload_too_large");
    // Node servers behind Web streams lose the answer if the body is cancelled, and stall if it is left unread.
    await vi.waitFor(() => expect(served).toBe(3));
    expect(cancelled).toBe(false);
  });

  it("answers 413 while reading a streamed body with no length, draining at most 16 MiB before giving up", async () => {
    const { webhooks } = receiver({ maxBodyBytes: 1000 });
    let served = 0;
    let cancelled = false;
    const chunk = new Uint8Array(1024 * 1024);
    const endless = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          served++;
          controller.enqueue(chunk);
        },
        cancel: () => {
          cancelled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const response = await webhooks.handle(post(endless, {}, { duplex: "half" } as RequestInit));
    expect(response.status).toBe(413);
    await vi.waitFor(() => expect(cancelled).toBe(true));
    expect(served).toBeLessThanOrEqual(18);
  });

  it("reads a body from any async iterable of chunks, as Node streams are", async () => {
    const { webhooks } = receiver();
    const { body, headers } = signEvent(createEvent("user.created"), secret);
    async function* chunks() {
      const bytes = new TextEncoder().encode(body);
      for (let i = 0; i < bytes.length; i += 7) yield bytes.subarray(i, i + 7);
    }
    const header = (name: string) => (headers as Record<string, string>)[name];
    const reply = await webhooks.receive({ method: "POST", header, body: chunks() });
    expect(reply).toMatchObject({ status: 200, body: JSON.stringify({ received: true }) });
  });

  it("answers 400 request_aborted when the body cannot be read to its end, reported as a client fault", async () => {
    const { webhooks, logs } = receiver();
    const errors: string[] = [];
    webhooks.onError((error) => errors.push(`${error.status} ${error.code}`));
    const hangsUp: AsyncIterable<Uint8Array> = {
      async *[Symbol.asyncIterator]() {
        yield new TextEncoder().encode('{"event":');
        throw new Error("aborted");
      },
    };
    const reply = await webhooks.receive({ method: "POST", header: () => null, body: hangsUp });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body).error.code).toBe("request_aborted");
    expect(errors).toEqual(["400 request_aborted"]);
    expect(logs.map((entry) => entry.outcome)).toEqual(["request_aborted"]);
  });

  it("reports an unexpected failure as internal_error (500), not as a store outage", async () => {
    const { webhooks } = receiver();
    const errors: string[] = [];
    webhooks.onError((error) => errors.push(error.code));
    const header = () => {
      throw new Error("a header lookup that breaks");
    };
    const reply = await webhooks.receive({ method: "POST", header, body: "{}" });
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body).error.code).toBe("internal_error");
    expect(errors).toEqual(["internal_error"]);
  });

  it("accepts a body of exactly the limit", async () => {
    const event = createEvent("user.created");
    const { body, headers } = signEvent(event, secret);
    const { webhooks } = receiver({ maxBodyBytes: Buffer.byteLength(body) });
    expect((await webhooks.handle(post(body, headers))).status).toBe(200);
  });

  it.each([
    ["signature_missing", undefined],
    ["signature_malformed", "abc"],
    ["signature_malformed", "z".repeat(64)],
    ["signature_mismatch", "0".repeat(64)],
  ])("answers 401 %s", async (code, signature) => {
    const { webhooks } = receiver();
    const headers: Record<string, string> =
      signature === undefined ? {} : { "x-optare-signature": signature };
    const response = await webhooks.handle(post(JSON.stringify(createEvent("user.created")), headers));
    expect(await answer(response)).toMatchObject({ status: 401, body: { error: { code } } });
  });

  it("answers 401 to a body signed with another secret, and 200 to any rotated secret", async () => {
    const event = createEvent("user.deleted");
    expect((await receiver().webhooks.handle(signed(event, "another-secret"))).status).toBe(401);
    const rotating = receiver({ secret: ["new-secret-new-secret", secret] });
    expect((await rotating.webhooks.handle(signed(event))).status).toBe(200);
  });

  it("answers 401 to a tampered body", async () => {
    const { body, headers } = signEvent(createEvent("user.created"), secret);
    const response = await receiver().webhooks.handle(post(body.replace("john", "evil"), headers));
    expect(response.status).toBe(401);
  });

  it("answers 401 to an event older than maxEventAge or too far in the future", async () => {
    const clock = Date.parse("2026-01-01T00:00:00Z");
    const { webhooks } = receiver({ now: () => clock, maxEventAge: 60 * 60_000 });
    const at = (offset: number) =>
      signed(createEvent("user.created", { timestamp: new Date(clock + offset) }));
    expect((await answer(await webhooks.handle(at(-61 * 60_000)))).body.error.code).toBe("event_too_old");
    expect((await answer(await webhooks.handle(at(6 * 60_000)))).body.error.code).toBe("event_in_future");
    expect((await webhooks.handle(at(-59 * 60_000))).status).toBe(200);
  });

  it.each([
    ["invalid_json", "not json"],
    ["invalid_json", ""],
    ["invalid_envelope", '{"hello":"world"}'],
    ["invalid_envelope", "[1,2]"],
  ])("answers 400 %s to a signed body that is not an event", async (code, body) => {
    const response = await receiver().webhooks.handle(
      post(body, { "x-optare-signature": sign(body, secret) }),
    );
    expect(await answer(response)).toMatchObject({ status: 400, body: { error: { code } } });
  });

  it("answers 400 to signed bytes that are not UTF-8", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
    const response = await receiver().webhooks.handle(
      post(bytes, { "x-optare-signature": sign(bytes, secret) }),
    );
    expect(await answer(response)).toMatchObject({ status: 400, body: { error: { code: "invalid_json" } } });
  });

  it("answers 422 to a known event whose data fails its schema, or accepts it unvalidated by option", async () => {
    const broken = { ...createEvent("user.created"), data: { user: { id: 1 } } };
    const strict = receiver();
    const handler = vi.fn();
    strict.webhooks.on("user.created", handler);
    expect(await answer(await strict.webhooks.handle(signed(broken)))).toMatchObject({
      status: 422,
      body: { error: { code: "invalid_event_data" } },
    });
    expect(handler).not.toHaveBeenCalled();

    const lenient = receiver({ invalidData: "accept" });
    lenient.webhooks.on("user.created", handler);
    expect((await lenient.webhooks.handle(signed(broken))).status).toBe(200);
    expect(handler).toHaveBeenCalledOnce();
  });

  it("acknowledges an unknown event type with 200 and runs onUnknown and onAny, not typed handlers", async () => {
    const { webhooks } = receiver();
    const typedHandler = vi.fn();
    const unknown = vi.fn();
    const any = vi.fn();
    webhooks.on(EVENT_TYPES, typedHandler).onUnknown(unknown).onAny(any);
    const event = { ...createEvent("user.created"), event: "billing.invoice.paid", data: { amount: 3 } };
    const response = await webhooks.handle(signed(event));
    expect(await answer(response)).toMatchObject({ status: 200, body: { received: true } });
    expect(typedHandler).not.toHaveBeenCalled();
    expect(unknown).toHaveBeenCalledWith(
      expect.objectContaining({ event: "billing.invoice.paid" }),
      expect.anything(),
    );
    expect(any).toHaveBeenCalledOnce();
  });

  it.each(EVENT_TYPES)("delivers %s to its typed handler, then onAny, and answers 200", async (type) => {
    const { webhooks } = receiver();
    const calls: string[] = [];
    webhooks.onAny((event) => {
      calls.push(`any:${event.event}`);
    });
    webhooks.on(type, (event) => {
      calls.push(`on:${event.event}`);
    });
    const event = createEvent(type);
    const response = await webhooks.handle(signed(event));
    expect(await answer(response)).toMatchObject({ status: 200, body: { received: true } });
    expect(calls).toEqual([`on:${type}`, `any:${type}`]);
  });

  it("runs handlers registered for several types with one call", async () => {
    const { webhooks } = receiver();
    const seen: string[] = [];
    webhooks.on(["session.created", "session.revoked"], (event) => {
      seen.push(event.data.session.id);
    });
    await webhooks.handle(signed(createEvent("session.created")));
    await webhooks.handle(signed(createEvent("session.revoked")));
    await webhooks.handle(signed(createEvent("session.expired")));
    expect(seen).toEqual(["sess_789", "sess_789"]);
  });

  it("answers 500 when a handler throws, releases the claim, and runs the retry", async () => {
    const { webhooks, logs } = receiver();
    const errors: string[] = [];
    let attempts = 0;
    webhooks.on("user.created", () => {
      attempts++;
      if (attempts === 1) throw new Error(`database down; leaked ${secret}`);
    });
    webhooks.onError((error) => errors.push(error.code));
    const event = createEvent("user.created");
    const first = await answer(await webhooks.handle(signed(event)));
    expect(first).toMatchObject({ status: 500, body: { error: { code: "handler_failed" } } });
    expect(JSON.stringify(first.body)).not.toContain("database down");
    expect(errors).toEqual(["handler_failed"]);
    expect((await webhooks.handle(signed(event))).status).toBe(200);
    expect(attempts).toBe(2);
    expect(logs.map((entry) => entry.outcome)).toEqual(["handler_failed", "processed"]);
  });

  it("answers 200 to a duplicate of a completed event without running the handler", async () => {
    const { webhooks, logs } = receiver();
    const handler = vi.fn();
    webhooks.on("user.created", handler);
    const event = createEvent("user.created");
    expect((await webhooks.handle(signed(event))).status).toBe(200);
    expect(await answer(await webhooks.handle(signed(event)))).toMatchObject({
      status: 200,
      body: { received: true, duplicate: true },
    });
    expect(handler).toHaveBeenCalledOnce();
    expect(logs.map((entry) => entry.outcome)).toEqual(["processed", "duplicate"]);
  });

  it("answers 409 with Retry-After to a duplicate while the first is processing, never 2xx", async () => {
    const { webhooks } = receiver();
    const gate = deferred();
    const handler = vi.fn(() => gate.promise);
    webhooks.on("user.created", handler);
    const event = createEvent("user.created");
    const first = webhooks.handle(signed(event));
    await vi.waitFor(() => expect(handler).toHaveBeenCalled());
    const second = await webhooks.handle(signed(event));
    expect(second.status).toBe(409);
    expect(Number(second.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await answer(second)).body.error.code).toBe("event_in_progress");
    gate.resolve();
    expect((await first).status).toBe(200);
    expect(handler).toHaveBeenCalledOnce();
  });

  it("answers 422 to the same id with a different body, without running the handler", async () => {
    const { webhooks } = receiver();
    const handler = vi.fn();
    webhooks.on("user.created", handler);
    const event = createEvent("user.created");
    await webhooks.handle(signed(event));
    const forged = { ...event, data: { user: { ...event.data.user, email: "other@example.com" } } };
    expect(await answer(await webhooks.handle(signed(forged)))).toMatchObject({
      status: 422,
      body: { error: { code: "event_conflict" } },
    });
    expect(handler).toHaveBeenCalledOnce();
  });

  it("runs the handler at most once among many concurrent identical deliveries", async () => {
    const { webhooks } = receiver();
    let runs = 0;
    webhooks.on("member.added", async () => {
      runs++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    const event = createEvent("member.added");
    const statuses = await Promise.all(
      Array.from({ length: 50 }, async () => (await webhooks.handle(signed(event))).status),
    );
    expect(runs).toBe(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
  });

  it("answers 503 when the idempotency store is unreachable, without running the handler", async () => {
    // A store whose every call fails the way a dropped Redis connection does; the Redis package tests
    // the same through a real client pointed at a closed port.
    const down = new Error("connect ECONNREFUSED 127.0.0.1:6379");
    const unreachable: IdempotencyStore = {
      leaseMs: 30_000,
      retentionMs: 86_400_000,
      claim: () => Promise.reject(down),
      complete: () => Promise.reject(down),
      release: () => Promise.reject(down),
      extend: () => Promise.reject(down),
    };
    const { webhooks } = receiver({ store: unreachable });
    const handler = vi.fn();
    const errors: unknown[] = [];
    webhooks.on("user.created", handler).onError((error) => errors.push(error.cause));
    const response = await answer(await webhooks.handle(signed(createEvent("user.created"))));
    expect(response).toMatchObject({ status: 503, body: { error: { code: "store_unavailable" } } });
    expect(JSON.stringify(response.body)).not.toContain("6379");
    expect(handler).not.toHaveBeenCalled();
    expect(errors).toEqual([down]);
  });

  it("answers 503 + Retry-After at the ack deadline, keeps working under its lease, and the retry sees the outcome", async () => {
    const { webhooks } = receiver({ ackTimeoutMs: 30 });
    const gate = deferred();
    let runs = 0;
    webhooks.on("organization.created", () => {
      runs++;
      return gate.promise;
    });
    const event = createEvent("organization.created");
    const late: Promise<unknown>[] = [];
    const first = await webhooks.handle(signed(event), { waitUntil: (promise) => late.push(promise) });
    expect(first.status).toBe(503);
    expect(first.headers.get("retry-after")).toBe("30");
    expect((await answer(first)).body.error.code).toBe("handler_timeout");
    expect(late).toHaveLength(1);
    // The retry arrives while the work still runs: it must not run a second copy.
    expect((await webhooks.handle(signed(event))).status).toBe(409);
    gate.resolve();
    await late[0];
    expect(await answer(await webhooks.handle(signed(event)))).toMatchObject({
      status: 200,
      body: { duplicate: true },
    });
    expect(runs).toBe(1);
  });

  it("releases the event when late work fails after the deadline, so the retry runs it again", async () => {
    const { webhooks } = receiver({ ackTimeoutMs: 20 });
    const errors: string[] = [];
    const gate = deferred();
    let runs = 0;
    webhooks.on("organization.updated", () => (++runs === 1 ? gate.promise : undefined));
    webhooks.onError((error) => errors.push(error.code));
    const event = createEvent("organization.updated");
    const late: Promise<unknown>[] = [];
    expect((await webhooks.handle(signed(event), { waitUntil: (p) => late.push(p) })).status).toBe(503);
    gate.reject(new Error("timeout talking to CRM"));
    await late[0];
    expect(errors).toContain("handler_failed");
    expect((await webhooks.handle(signed(event))).status).toBe(200);
    expect(runs).toBe(2);
  });

  it.each([
    // memoryStore's receiver holds need no heartbeat (see LOCAL_STORE); a copy of it is a plain async
    // store, as Redis and PostgreSQL are, whose lease the receiver must keep extending.
    ["memoryStore (held in process)", () => memoryStore({ leaseMs: 60 })],
    ["an async store (heartbeats)", () => ({ ...memoryStore({ leaseMs: 60 }) })],
  ])(
    "extends the lease while a handler outlives it, so no duplicate runs meanwhile: %s",
    async (_, create) => {
      const store: IdempotencyStore = create();
      const extend = vi.spyOn(store, "extend");
      const { webhooks } = receiver({ store, maxEventAge: 1000 });
      const gate = deferred();
      let runs = 0;
      webhooks.on("api_key.created", () => {
        runs++;
        return gate.promise;
      });
      const event = createEvent("api_key.created");
      const first = webhooks.handle(signed(event));
      await new Promise((resolve) => setTimeout(resolve, 250)); // four leases later
      expect((await webhooks.handle(signed(event))).status).toBe(409);
      gate.resolve();
      expect((await first).status).toBe(200);
      expect(runs).toBe(1);
      expect((await webhooks.handle(signed(event))).status).toBe(200); // a duplicate of the completed event
      expect(runs).toBe(1);
      if (localStoreOf(store) === undefined) expect(extend.mock.calls.length).toBeGreaterThanOrEqual(3);
      else expect(extend).not.toHaveBeenCalled();
    },
  );

  it("answers without deduplication when the store is disabled", async () => {
    const { webhooks } = receiver({ store: false });
    const handler = vi.fn();
    webhooks.on("user.created", handler);
    const event = createEvent("user.created");
    await webhooks.handle(signed(event));
    await webhooks.handle(signed(event));
    expect(handler).toHaveBeenCalledTimes(2);
  });
});

describe("createWebhooks: configuration", () => {
  it.each([[""], [[]], [undefined]])("refuses an empty secret (%j)", (value) => {
    expect(() => createWebhooks({ secret: value as never })).toThrow(/secret/);
  });

  it("refuses a maxEventAge longer than the store keeps records", () => {
    expect(() => createWebhooks({ secret, store: memoryStore({ retentionMs: 60_000 }) })).toThrow(
      /retention/,
    );
    expect(() =>
      createWebhooks({ secret, store: memoryStore({ retentionMs: 60_000 }), maxEventAge: 60_000 }),
    ).not.toThrow();
  });

  it("logs every outcome once, with the event id when known", async () => {
    const { webhooks, logs } = receiver();
    const event = createEvent("user.created");
    await webhooks.handle(signed(event));
    await webhooks.handle(new Request(url));
    expect(logs).toEqual([
      expect.objectContaining({
        outcome: "processed",
        status: 200,
        eventId: event.id,
        eventType: "user.created",
      }),
      expect.objectContaining({ outcome: "method_not_allowed", status: 405, eventId: undefined }),
    ]);
  });
});

describe("createWebhooks: failures are loud", () => {
  function capture() {
    const lines: { level: "error" | "warn"; fields: Record<string, unknown>; message: string }[] = [];
    const logger = {
      error: (fields: Record<string, unknown>, message: string) =>
        lines.push({ level: "error", fields, message }),
      warn: (fields: Record<string, unknown>, message: string) =>
        lines.push({ level: "warn", fields, message }),
    };
    return { lines, logger };
  }

  it("logs a failing handler to stderr by default: one line with the code, the event and the cause's stack", async () => {
    const stderr = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const webhooks = createWebhooks({ secret });
      webhooks.on("user.created", function syncTheCrm() {
        throw new Error("CRM refused the contact");
      });
      const event = createEvent("user.created");
      expect((await webhooks.handle(signed(event))).status).toBe(500);
      expect(stderr).toHaveBeenCalledTimes(1);
      const line = String(stderr.mock.calls[0]![0]);
      expect(line).toMatch(/^\[optare-webhooks\] A handler failed/);
      expect(line).toContain("status=500 code=handler_failed eventType=user.created");
      expect(line).toContain(`eventId=${event.id}`);
      expect(line).toContain("caused by: Error: CRM refused the contact");
      expect(line).toContain("syncTheCrm"); // the stack of the handler's throw
      expect(line).not.toContain(secret);
    } finally {
      stderr.mockRestore();
    }
  });

  it("logs the causes of the cause, which say why (fetch failed ← ECONNREFUSED)", async () => {
    const stderr = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const webhooks = createWebhooks({ secret });
      webhooks.on("user.created", () => {
        const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), {
          code: "ECONNREFUSED",
        });
        throw new TypeError("fetch failed", { cause: refused });
      });
      await webhooks.handle(signed(createEvent("user.created")));
      const line = String(stderr.mock.calls[0]![0]);
      expect(line).toContain("caused by: TypeError: fetch failed");
      expect(line).toContain("caused by: Error: connect ECONNREFUSED 127.0.0.1:9");
    } finally {
      stderr.mockRestore();
    }
  });

  it("logs a rejected request as a warning line without a stack, and nothing at all with logger: false", async () => {
    const stderr = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      await createWebhooks({ secret }).handle(signed(createEvent("user.created"), "f".repeat(64)));
      expect(stderr).toHaveBeenCalledTimes(1);
      expect(String(stderr.mock.calls[0]![0])).toContain("status=401 code=signature_mismatch");
      stderr.mockClear();
      await createWebhooks({ secret, logger: false }).handle(
        signed(createEvent("user.created"), "f".repeat(64)),
      );
      expect(stderr).not.toHaveBeenCalled();
    } finally {
      stderr.mockRestore();
    }
  });

  it("hands a pino-style logger (fields, message) every failed request, and onError sees every class", async () => {
    const { lines, logger } = capture();
    const webhooks = createWebhooks({ secret, logger });
    const seen: string[] = [];
    webhooks.onError((error) => seen.push(`${error.status} ${error.code}`));
    webhooks.on("user.deleted", () => {
      throw new Error("boom");
    });
    await webhooks.handle(new Request(url));
    await webhooks.handle(post("{}", { "x-optare-signature": sign("{}", secret) }));
    await webhooks.handle(signed(createEvent("user.created"), "f".repeat(64)));
    await webhooks.handle(signed(createEvent("user.deleted")));
    const processed = await webhooks.handle(signed(createEvent("user.created")));
    expect(processed.status).toBe(200);
    expect(seen).toEqual([
      "405 method_not_allowed",
      "400 invalid_envelope",
      "401 signature_mismatch",
      "500 handler_failed",
    ]);
    expect(lines.map((line) => `${line.level} ${line.fields.status} ${line.fields.code}`)).toEqual([
      "warn 405 method_not_allowed",
      "warn 400 invalid_envelope",
      "warn 401 signature_mismatch",
      "error 500 handler_failed",
    ]);
    const failed = lines[3]!.fields;
    expect(failed).toMatchObject({ eventType: "user.deleted", durationMs: expect.any(Number) });
    expect((failed.err as Error & { cause: Error }).cause.message).toBe("boom");
  });

  it("logs a failure that comes after the ack deadline (the 503 was already sent)", async () => {
    const { lines, logger } = capture();
    const webhooks = createWebhooks({ secret, logger, ackTimeoutMs: 10 });
    webhooks.on("user.created", async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      throw new Error("late");
    });
    expect((await webhooks.handle(signed(createEvent("user.created")))).status).toBe(503);
    await vi.waitFor(() =>
      expect(lines.map((line) => line.fields.code)).toEqual(["handler_timeout", "handler_failed"]),
    );
    expect(lines[1]!.message).toMatch(/^Late failure after the ack deadline/);
  });
});

describe("createWebhooks: a secret read lazily", () => {
  it("creates the receiver with no secret in the environment, reads it on the first request, and caches it", async () => {
    const env: { SECRET?: string } = {};
    let reads = 0;
    const { lines, logger } = {
      lines: [] as string[],
      logger: { error: (_: unknown, m: string) => lines.push(m), warn: () => {} },
    };
    const webhooks = createWebhooks({
      secret: () => {
        reads++;
        return env.SECRET;
      },
      logger,
    });
    // A build, or a request before the deployment has its secret: loud 500s, never a crash or a 2xx.
    const missing = await webhooks.handle(signed(createEvent("user.created")));
    expect(missing.status).toBe(500);
    expect((await answer(missing)).body.error.code).toBe("invalid_configuration");
    expect(lines[0]).toMatch(/secret is undefined.*OPTARE_WEBHOOK_SECRET/);
    env.SECRET = secret;
    expect((await webhooks.handle(signed(createEvent("user.created")))).status).toBe(200);
    expect((await webhooks.handle(signed(createEvent("user.created")))).status).toBe(200);
    expect(reads).toBe(2); // once missing, once found; then cached
  });

  it("accepts an async secret function and a list of secrets from it, read once for concurrent requests", async () => {
    const other = "a".repeat(64);
    let reads = 0;
    const webhooks = createWebhooks({
      secret: async () => {
        reads++;
        await new Promise((resolve) => setTimeout(resolve, 10));
        return [other, secret];
      },
      logger: false,
    });
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => webhooks.handle(signed(createEvent("user.created")))),
    );
    expect(answers.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
    expect(reads).toBe(1);
  });

  it("answers 500 invalid_configuration, with the cause logged, when the secret function throws", async () => {
    const errors: unknown[] = [];
    const webhooks = createWebhooks({
      secret: () => {
        throw new Error("vault unreachable");
      },
      logger: { error: (fields) => errors.push(fields.err), warn: () => {} },
    });
    const response = await webhooks.handle(signed(createEvent("user.created")));
    expect(response.status).toBe(500);
    expect((await answer(response)).body.error.code).toBe("invalid_configuration");
    expect(((errors[0] as Error).cause as Error).message).toBe("vault unreachable");
  });
});

describe("createWebhooks: a Request whose body was already read", () => {
  it("answers 500 raw_body_required saying the body was read before handle(), not request_aborted", async () => {
    const { webhooks } = receiver();
    const handler = vi.fn();
    webhooks.onAny(handler);
    const request = signed(createEvent("user.created"));
    await request.json();
    const { status, body } = await answer(await webhooks.handle(request));
    expect(status).toBe(500);
    expect(body.error.code).toBe("raw_body_required");
    expect(body.error.message).toMatch(/already read .*request\.json\(\)/);
    expect(handler).not.toHaveBeenCalled();
  });
});

describe("createWebhooks: a bounded memory store never replays", () => {
  it("refuses a captured delivery of an event the store had to forget, and warns that retries are at risk", async () => {
    const warnings: string[] = [];
    const webhooks = createWebhooks({
      secret,
      store: memoryStore({ maxEntries: 2 }),
      logger: { error: () => {}, warn: (_fields, message) => warnings.push(message) },
    });
    const handler = vi.fn();
    webhooks.onAny(handler);
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const captured = createEvent("user.created", { timestamp: at(30) });
    const replay = signEvent(captured, secret);
    expect((await webhooks.handle(post(replay.body, replay.headers))).status).toBe(200);
    for (const minutes of [20, 10]) {
      expect(
        (await webhooks.handle(signed(createEvent("user.created", { timestamp: at(minutes) })))).status,
      ).toBe(200);
    }
    // The first event's record was evicted to make room: its replay must not run the handler again.
    const { status, body } = await answer(await webhooks.handle(post(replay.body, replay.headers)));
    expect(status).toBe(401);
    expect(body.error.code).toBe("event_too_old");
    expect(handler).toHaveBeenCalledTimes(3);
    expect(warnings.some((message) => /forgot an event from 30 min ago.*81 min/.test(message))).toBe(true);
    // Newer events still go through.
    expect((await webhooks.handle(signed(createEvent("user.created", { timestamp: at(1) })))).status).toBe(
      200,
    );
  });
});

describe("createWebhooks: options are validated at start-up", () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ["maxEventAge: NaN (an unset env var)", { maxEventAge: Number(undefined) }, /maxEventAge must be/],
    ["maxEventAge: -1", { maxEventAge: -1 }, /maxEventAge/],
    ["maxFutureSkew: NaN", { maxFutureSkew: Number.NaN }, /maxFutureSkew must be/],
    ["maxFutureSkew: Infinity", { maxFutureSkew: Number.POSITIVE_INFINITY }, /maxFutureSkew/],
    ["maxBodyBytes: NaN", { maxBodyBytes: Number.NaN }, /maxBodyBytes must be/],
    ["maxBodyBytes: '1mb'", { maxBodyBytes: "1mb" }, /maxBodyBytes/],
    [
      "ackTimeoutMs: 30 000 (Optare waits 30 s)",
      { ackTimeoutMs: 30_000 },
      /ackTimeoutMs must be an integer from 1 to 29999/,
    ],
    ["ackTimeoutMs: 0", { ackTimeoutMs: 0 }, /ackTimeoutMs/],
    ["store: null", { store: null }, /store must be an idempotency store/],
    ["store: {}", { store: {} }, /store must be an idempotency store/],
    ["invalidData: 'ignore'", { invalidData: "ignore" }, /invalidData must be "reject" or "accept"/],
    ["now: 0", { now: 0 }, /now must be a function/],
    ["log: true", { log: true }, /log must be a function/],
    ["logger: {}", { logger: {} }, /logger must be an object with error\(\) and warn\(\)/],
    ["telemetry: {}", { telemetry: {} }, /telemetry must have a start\(\) method/],
    ["secret with a trailing newline", { secret: `${secret}\n` }, /whitespace/],
    ["secret: [valid, undefined]", { secret: [secret, undefined] }, /secret\[1\] is undefined/],
    ["secret: 42", { secret: 42 }, /secret must be a string/],
  ];
  it.each(bad)("refuses %s with invalid_configuration naming the option", (_, options, message) => {
    let thrown: unknown;
    try {
      createWebhooks({ secret, logger: false, ...options } as WebhooksOptions);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "invalid_configuration" });
    expect((thrown as Error).message).toMatch(message);
  });

  it("warns about a secret that is not shaped like an Optare secret, and about unknown options", () => {
    const warnings: string[] = [];
    const logger = { error: () => {}, warn: (_: unknown, message: string) => warnings.push(message) };
    createWebhooks({ secret: "my-secret", logger, maxEventAgeMs: 5 } as WebhooksOptions);
    expect(warnings).toEqual([
      expect.stringMatching(/unknown option "maxEventAgeMs"/),
      expect.stringMatching(/not 64 lowercase hex characters/),
    ]);
    warnings.length = 0;
    createWebhooks({ secret, logger });
    expect(warnings).toEqual([]);
  });
});

describe("createWebhooks: hostile input (property)", () => {
  it("never answers 5xx, never echoes secrets or payloads, and always returns a coded JSON error", async () => {
    const { webhooks } = receiver();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.uint8Array({ maxLength: 2048 }), fc.json()),
        fc.oneof(fc.constant(undefined), fc.string(), fc.stringMatching(/^[0-9a-f]{64}$/)),
        fc.boolean(),
        async (body, signature, signIt) => {
          const headers: Record<string, string> = {};
          const value = signIt ? sign(body, secret) : signature;
          if (value !== undefined) {
            try {
              new Headers({ "x-optare-signature": value });
              headers["x-optare-signature"] = value;
            } catch {
              // Not a legal header value: no client could send it.
            }
          }
          const response = await webhooks.handle(post(body as BodyInit, headers));
          expect(response.status).toBeLessThan(500);
          const text = await response.text();
          expect(text).not.toContain(secret);
          if (response.status !== 200) {
            expect(JSON.parse(text).error.code).toMatch(/^[a-z_]+$/);
            expect(text).not.toContain(sign(body, secret));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("createWebhooks: queue mode", () => {
  /** An `EventQueue` over a Map: the interface's contract, for the decision table (BullMQ's is tested in its package). */
  function mapQueue() {
    const jobs = new Map<string, { hash: string; body: string }>();
    let down = false;
    return {
      jobs,
      setDown: (value: boolean) => {
        down = value;
      },
      queue: {
        retentionMs: 24 * 60 * 60 * 1000,
        async enqueue(event: { id: string }, body: Uint8Array | string, hash: string) {
          if (down) throw new Error("connect ECONNREFUSED 127.0.0.1:6390");
          const existing = jobs.get(event.id);
          if (existing) return existing.hash === hash ? ("duplicate" as const) : ("conflict" as const);
          jobs.set(event.id, {
            hash,
            body: typeof body === "string" ? body : new TextDecoder().decode(body),
          });
          return "queued" as const;
        },
      },
    };
  }

  it("checks everything, hands the event with its raw bytes to the queue, runs no handler, and answers queued", async () => {
    const { queue, jobs } = mapQueue();
    const { webhooks, logs } = receiver({ queue });
    const handler = vi.fn();
    webhooks.onAny(handler);
    const event = createEvent("user.created");
    const { body, headers } = signEvent(event, secret);
    expect(await answer(await webhooks.handle(post(body, headers)))).toMatchObject({
      status: 200,
      body: { received: true, queued: true },
    });
    expect(jobs.get(event.id)?.body).toBe(body);
    expect(handler).not.toHaveBeenCalled();
    expect(logs.map((entry) => entry.outcome)).toEqual(["queued"]);
    // Duplicates stay duplicates; another body under the id is a conflict; bad input never reaches the queue.
    expect((await answer(await webhooks.handle(post(body, headers)))).body).toEqual({
      received: true,
      duplicate: true,
    });
    expect((await webhooks.handle(signed({ ...event, data: { ...event.data, x: 1 } }))).status).toBe(422);
    expect((await webhooks.handle(signed(createEvent("user.created"), "f".repeat(64)))).status).toBe(401);
    expect(jobs.size).toBe(1);
  });

  it("answers 503 queue_unavailable, naming no host, when the queue cannot be reached", async () => {
    const { queue, setDown } = mapQueue();
    const { webhooks } = receiver({ queue });
    setDown(true);
    const response = await webhooks.handle(signed(createEvent("user.created")));
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text).error.code).toBe("queue_unavailable");
    expect(text).not.toContain("127.0.0.1");
  });

  it("refuses a store next to a queue, a queue that is not one, and a maxEventAge longer than the queue remembers", () => {
    const { queue } = mapQueue();
    expect(() => createWebhooks({ secret, queue, store: memoryStore() })).toThrow(
      /give the store to the worker/,
    );
    expect(() => createWebhooks({ secret, queue: {} as never })).toThrow(/queue must be an event queue/);
    expect(() => createWebhooks({ secret, queue: { ...queue, retentionMs: 1000 } })).toThrow(
      /queue remembers/,
    );
  });
});
