// The sender against real node:http servers on 127.0.0.1. The only fake is time: a virtual clock
// runs the 81-minute retry schedule instantly, while every attempt is a real HTTP exchange.
import { createServer } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { EVENT_TYPES, SIGNATURE_HEADER, verifySignature } from "@optare/webhooks";
import { buildConnector } from "undici";
import { afterEach, describe, expect, it, vi } from "vitest";
import { blockedRange } from "./address-guard";
import {
  createSender,
  createVirtualClock,
  DEFAULT_CONCURRENCY,
  DEFAULT_TIMEOUT_MS,
  type ExhaustedDelivery,
  type Lookup,
  MAX_ATTEMPTS,
  memorySenderStore,
  RETRY_DELAYS,
  type Sender,
  SenderError,
  type SenderOptions,
} from "./index";
import {
  type CapturedRequest,
  closedPort,
  MINUTE,
  org,
  reply,
  START,
  startServer,
  type TestServer,
  user,
  waitFor,
} from "./test-server";
import { createUndiciTransport } from "./undici-transport";

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task();
});

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const started = await startServer(...args);
  cleanup.push(started.close);
  return started;
}

function sender(options: SenderOptions = {}): Sender {
  const created = createSender({ allowInsecure: true, ...options });
  cleanup.push(created.close);
  return created;
}

function setupSender(options: SenderOptions = {}) {
  const clock = createVirtualClock(START);
  return { clock, sender: sender({ clock, ...options }) };
}

function signatureOf(request: CapturedRequest): string {
  return String(request.headers[SIGNATURE_HEADER]);
}

describe("endpoint registry", () => {
  it("creates endpoints with a fresh 64-hex secret, lists them per organization, gets and deletes them", async () => {
    const { sender: s } = setupSender();
    const a = await s.createWebhook("org_a", "https://a.example.com/hook", ["user.created", "user.deleted"]);
    const b = await s.createWebhook("org_a", "https://b.example.com/hook", ["session.created"]);
    const c = await s.createWebhook("org_b", "https://c.example.com/hook", ["user.created"]);

    expect(a).toEqual({
      id: expect.stringMatching(/^wh_[0-9a-f]{24}$/),
      organizationId: "org_a",
      url: "https://a.example.com/hook",
      events: ["user.created", "user.deleted"],
      secret: expect.stringMatching(/^[0-9a-f]{64}$/),
      isActive: true,
      createdAt: new Date(START).toISOString(),
    });
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    expect(new Set([a.secret, b.secret, c.secret]).size).toBe(3);

    expect((await s.listWebhooks("org_a")).map((w) => w.id).sort()).toEqual([a.id, b.id].sort());
    expect((await s.listWebhooks("org_b")).map((w) => w.id)).toEqual([c.id]);
    expect(await s.listWebhooks("org_none")).toEqual([]);
    expect(await s.getWebhook(b.id)).toEqual(b);
    expect(await s.getWebhook("wh_missing")).toBeNull();

    expect(await s.deleteWebhook(a.id)).toBe(true);
    expect(await s.deleteWebhook(a.id)).toBe(false);
    expect(await s.getWebhook(a.id)).toBeNull();
    expect((await s.listWebhooks("org_a")).map((w) => w.id)).toEqual([b.id]);
  });

  it("keeps a custom secret when one is given, and returns copies the caller cannot corrupt", async () => {
    const { sender: s } = setupSender();
    const hook = await s.createWebhook("org_a", "https://a.example.com/", ["user.created"], {
      secret: "shh",
    });
    expect(hook.secret).toBe("shh");
    hook.events.push("user.deleted");
    hook.isActive = false;
    expect(await s.getWebhook(hook.id)).toMatchObject({ events: ["user.created"], isActive: true });
  });

  it("rejects bad arguments with stable codes", async () => {
    const { sender: s } = setupSender();
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => "resolved",
        (error) => (SenderError.is(error) ? error.code : `not a SenderError: ${error}`),
      );
    expect(await code(s.createWebhook("", "https://a.example.com", ["user.created"]))).toBe(
      "invalid_argument",
    );
    expect(await code(s.createWebhook("org", "https://a.example.com", []))).toBe("invalid_argument");
    expect(await code(s.createWebhook("org", "https://a.example.com", [""]))).toBe("invalid_argument");
    expect(await code(s.createWebhook("org", "not a url", ["user.created"]))).toBe("invalid_url");
    expect(await code(s.createWebhook("org", "https://a.example.com", ["x"], { secret: "" }))).toBe(
      "invalid_argument",
    );
    expect(await code(s.setActive("wh_missing", false))).toBe("webhook_not_found");
    expect(await code(s.emit("user.created", { user }, { id: "", name: "x" }))).toBe("invalid_argument");
    expect(await code(s.emit("", {}, org))).toBe("invalid_argument");
    expect(await code(s.emit("x.y", [] as never, org))).toBe("invalid_argument");
    expect(await code(s.emit("x.y", { n: 1n }, org))).toBe("invalid_argument");
    expect(await code(s.emit("x.y", {}, org, { timestamp: "yesterday-ish" }))).toBe("invalid_argument");
    expect(() => createSender({ maxAttempts: 6 })).toThrow(SenderError);
    expect(() => createSender({ concurrency: 0 })).toThrow(SenderError);
    expect(() => createSender({ timeoutMs: 0 })).toThrow(SenderError);
  });
});

describe("HTTPS-only endpoint URLs", () => {
  it("accepts only https: by default", async () => {
    const s = createSender();
    cleanup.push(s.close);
    await expect(
      s.createWebhook("org", "https://hooks.example.com/optare", ["user.created"]),
    ).resolves.toMatchObject({ url: "https://hooks.example.com/optare" });
    for (const url of [
      "http://127.0.0.1:3000/hook",
      "http://localhost:3000/hook",
      "http://hooks.example.com/",
    ]) {
      await expect(s.createWebhook("org", url, ["user.created"])).rejects.toMatchObject({
        code: "insecure_url",
      });
    }
    for (const url of [
      "ftp://hooks.example.com/",
      "file:///etc/passwd",
      "/relative",
      "javascript:alert(1)",
    ]) {
      await expect(s.createWebhook("org", url, ["user.created"])).rejects.toMatchObject({
        code: "invalid_url",
      });
    }
  });

  it("with allowInsecure, permits http: on loopback hosts only", async () => {
    const s = createSender({ allowInsecure: true });
    cleanup.push(s.close);
    for (const url of [
      "http://127.0.0.1:3000/hook",
      "http://localhost:3000/hook",
      "http://[::1]:3000/hook",
    ]) {
      await expect(s.createWebhook("org", url, ["user.created"])).resolves.toMatchObject({ url });
    }
    for (const url of ["http://hooks.example.com/", "http://10.0.0.5/", "http://127.0.0.1.nip.io/"]) {
      await expect(s.createWebhook("org", url, ["user.created"])).rejects.toMatchObject({
        code: "insecure_url",
      });
    }
  });
});

describe("configuration", () => {
  it("defaults: 30 s timeout, 5 attempts, 16 in flight, 1 KiB of response body", async () => {
    const s = createSender();
    cleanup.push(s.close);
    expect(s.config).toEqual({
      timeoutMs: 30_000,
      maxAttempts: 5,
      concurrency: 16,
      retryDelays: [MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE],
      allowInsecure: false,
      responseBodyLimit: 1024,
    });
    expect([DEFAULT_TIMEOUT_MS, MAX_ATTEMPTS, DEFAULT_CONCURRENCY]).toEqual([30_000, 5, 16]);
    expect(RETRY_DELAYS).toEqual([MINUTE, 5 * MINUTE, 15 * MINUTE, 60 * MINUTE]);
  });
});

describe("a failing store", () => {
  it("loses a retry loudly (console.error) instead of crashing the process", async () => {
    const receiver = await server(reply(500));
    const store = memorySenderStore();
    const { clock, sender: s } = setupSender({ store });
    await s.createWebhook(org.id, receiver.url, ["user.created"]);
    await s.emit("user.created", { user }, org);
    store.getWebhook = () => Promise.reject(new Error("database unreachable"));
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      await clock.runAll();
      expect(errors).toHaveBeenCalledTimes(1);
      expect(String(errors.mock.calls[0]![0])).toMatch(/retry 2 of evt_\w+ was lost/);
      expect(receiver.requests).toHaveLength(1);
    } finally {
      errors.mockRestore();
    }
  });
});

// Every delivery behaviour holds for the default (undici) client and for an injected fetch.
const clients: Array<[string, SenderOptions]> = [
  ["default undici", {}],
  ["fetch", { fetch: (input, init) => globalThis.fetch(input, init) }],
];

describe.each(clients)("with the %s client", (_client, clientOptions) => {
  const setup = (options: SenderOptions = {}) => setupSender({ ...clientOptions, ...options });

  describe("delivery", () => {
    it("posts the documented envelope, signed over the exact bytes with the endpoint secret", async () => {
      const receiver = await server();
      const { sender: s } = setup();
      const hook = await s.createWebhook(org.id, receiver.url, ["user.created"]);

      const result = await s.emit("user.created", { user }, org);

      expect(receiver.requests).toHaveLength(1);
      const [request] = receiver.requests as [CapturedRequest];
      expect(request.method).toBe("POST");
      expect(request.path).toBe("/webhooks/optare");
      expect(request.headers["content-type"]).toBe("application/json");
      expect(request.headers["content-length"]).toBe(String(request.body.length));
      expect(request.headers["transfer-encoding"]).toBeUndefined();
      expect(signatureOf(request)).toMatch(/^[0-9a-f]{64}$/);
      expect(verifySignature(request.body, signatureOf(request), hook.secret)).toBe(true);
      expect(verifySignature(request.body, signatureOf(request), "another secret")).toBe(false);
      expect(request.body.toString("utf8")).toBe(result.body);

      const body = JSON.parse(request.body.toString("utf8"));
      expect(Object.keys(body)).toEqual(["event", "timestamp", "id", "data", "organization"]);
      expect(body).toEqual({
        event: "user.created",
        timestamp: new Date(START).toISOString(),
        id: expect.stringMatching(/^evt_[0-9a-f]{24}$/),
        data: { user },
        organization: org,
      });
      expect(result.event).toEqual(body);

      expect(result.deliveries).toEqual([
        {
          id: expect.stringMatching(/^dlv_[0-9a-f]{24}$/),
          webhookId: hook.id,
          eventId: body.id,
          event: "user.created",
          attempt: 1,
          url: receiver.url,
          statusCode: 200,
          responseBody: '{"received":true}',
          errorCode: null,
          error: null,
          durationMs: expect.any(Number),
          success: true,
          deliveredAt: new Date(START).toISOString(),
          nextAttemptAt: null,
        },
      ]);
      expect(await s.listDeliveries(hook.id)).toEqual(result.deliveries);
      expect(s.pendingRetries).toBe(0);
    });

    it("fans out to the active endpoints of the organization subscribed to the event, each with its own signature", async () => {
      const receivers = await Promise.all([server(), server(), server(), server(), server()]);
      const { sender: s } = setup();
      const both = await s.createWebhook(org.id, receivers[0]!.url, ["user.created", "user.deleted"]);
      const created = await s.createWebhook(org.id, receivers[1]!.url, ["user.created"]);
      const other = await s.createWebhook(org.id, receivers[2]!.url, ["session.created"]);
      const otherOrg = await s.createWebhook("org_other", receivers[3]!.url, ["user.created"]);
      const disabled = await s.createWebhook(org.id, receivers[4]!.url, ["user.created"]);
      await s.setActive(disabled.id, false);

      const result = await s.emit("user.created", { user }, org);

      expect(result.deliveries.map((d) => d.webhookId).sort()).toEqual([both.id, created.id].sort());
      expect(receivers.map((r) => r.requests.length)).toEqual([1, 1, 0, 0, 0]);
      const [first, second] = [receivers[0]!.requests[0]!, receivers[1]!.requests[0]!];
      expect(first.body.equals(second.body)).toBe(true);
      expect(verifySignature(first.body, signatureOf(first), both.secret)).toBe(true);
      expect(verifySignature(second.body, signatureOf(second), created.secret)).toBe(true);
      expect(signatureOf(first)).not.toBe(signatureOf(second));
      expect(await s.listDeliveries(other.id)).toEqual([]);
      expect(await s.listDeliveries(otherOrg.id)).toEqual([]);
      expect(await s.listDeliveries(disabled.id)).toEqual([]);

      await s.emit("user.deleted", { user: { id: "user_123", email: "john@example.com" } }, org);
      expect(receivers.map((r) => r.requests.length)).toEqual([2, 1, 0, 0, 0]);
    });

    it("delivers event types outside the catalog to endpoints subscribed to them", async () => {
      const receiver = await server();
      const { sender: s } = setup();
      await s.createWebhook(org.id, receiver.url, ["billing.invoice.paid", ...EVENT_TYPES]);
      const result = await s.emit("billing.invoice.paid", { invoice: { id: "in_1" } }, org);
      expect(result.deliveries[0]).toMatchObject({ success: true, event: "billing.invoice.paid" });
      expect(JSON.parse(receiver.requests[0]!.body.toString()).data).toEqual({ invoice: { id: "in_1" } });
    });

    it("emitting twice with the same id and timestamp gives byte-identical duplicates", async () => {
      const receiver = await server();
      const { sender: s } = setup();
      await s.createWebhook(org.id, receiver.url, ["user.created"]);
      const options = { id: "evt_duplicate", timestamp: "2026-03-01T11:59:00.000Z" };
      await s.emit("user.created", { user }, org, options);
      await s.emit("user.created", { user }, org, options);
      const [a, b] = receiver.requests as [CapturedRequest, CapturedRequest];
      expect(a.body.equals(b.body)).toBe(true);
      expect(signatureOf(a)).toBe(signatureOf(b));
      expect(JSON.parse(a.body.toString())).toMatchObject(options);
    });

    it("records a 413 sent before the body was read, even when the receiver then drops the connection", async () => {
      // Frameworks refuse oversize bodies on Content-Length and may close the socket mid-upload.
      const receiver = createServer((_request, response) => {
        response.writeHead(413, { connection: "close" });
        response.end("too large", () => response.socket?.destroy());
      });
      await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
      cleanup.push(() => new Promise((resolve) => receiver.close(resolve)));
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/`;
      const { sender: s } = setup();
      await s.createWebhook(org.id, url, ["user.created"]);
      const { deliveries } = await s.emit(
        "user.created",
        { user, padding: "x".repeat(2 * 1024 * 1024) },
        org,
      );
      expect(deliveries[0]).toMatchObject({ statusCode: 413, success: false, responseBody: "too large" });
    });

    it("truncates the recorded response body", async () => {
      const receiver = await server(reply(500, "x".repeat(10_000)));
      const { sender: s } = setup({ responseBodyLimit: 100 });
      await s.createWebhook(org.id, receiver.url, ["user.created"]);
      const [record] = (await s.emit("user.created", { user }, org)).deliveries;
      expect(record).toMatchObject({ statusCode: 500, success: false, responseBody: "x".repeat(100) });
    });
  });

  describe("retries", () => {
    it("retries a 5xx after 1 minute and stops at the first success", async () => {
      const receiver = await server((_req, res, index) =>
        reply(index === 0 ? 503 : 200, "ok")(_req, res, index),
      );
      const { clock, sender: s } = setup();
      const hook = await s.createWebhook(org.id, receiver.url, ["user.created"]);

      const { deliveries } = await s.emit("user.created", { user }, org);
      expect(deliveries[0]).toMatchObject({
        attempt: 1,
        statusCode: 503,
        success: false,
        errorCode: "http_status",
        nextAttemptAt: new Date(START + MINUTE).toISOString(),
      });
      expect(s.pendingRetries).toBe(1);

      await clock.advance(MINUTE - 1);
      expect(receiver.requests).toHaveLength(1);
      await clock.advance(1);
      expect(receiver.requests).toHaveLength(2);
      expect(await clock.runAll()).toBe(0);

      const history = await s.listDeliveries(hook.id);
      expect(
        history.map((d) => [d.attempt, d.statusCode, d.success, d.deliveredAt, d.nextAttemptAt]),
      ).toEqual([
        [2, 200, true, new Date(START + MINUTE).toISOString(), null],
        [1, 503, false, new Date(START).toISOString(), new Date(START + MINUTE).toISOString()],
      ]);
      expect(new Set(history.map((d) => d.eventId)).size).toBe(1);
      expect(s.pendingRetries).toBe(0);
    });

    it("makes exactly 5 attempts at +0, +1 min, +5 min, +15 min, +1 h after each failure, same bytes and signature", async () => {
      const attemptTimes: number[] = [];
      const { clock, sender: s } = setup({ onExhausted: (e) => exhausted.push(e) });
      const receiver = await server((req, res, index) => {
        attemptTimes.push(clock.now());
        reply(500, "down")(req, res, index);
      });
      const exhausted: ExhaustedDelivery[] = [];
      const hook = await s.createWebhook(org.id, receiver.url, ["user.created"]);

      const { event } = await s.emit("user.created", { user }, org);
      expect(await clock.runAll()).toBe(4);
      await clock.advance(24 * 60 * MINUTE);

      const gaps = [0, 1, 5, 15, 60].map((m) => m * MINUTE);
      const expected = gaps.map((_, i) => START + gaps.slice(0, i + 1).reduce((a, b) => a + b, 0));
      expect(attemptTimes).toEqual(expected);
      expect(expected.map((t) => (t - START) / MINUTE)).toEqual([0, 1, 6, 21, 81]);

      expect(receiver.requests).toHaveLength(5);
      const [first, ...rest] = receiver.requests as [CapturedRequest, ...CapturedRequest[]];
      for (const request of rest) {
        expect(request.body.equals(first.body)).toBe(true);
        expect(signatureOf(request)).toBe(signatureOf(first));
      }
      expect(verifySignature(first.body, signatureOf(first), hook.secret)).toBe(true);
      expect(JSON.parse(first.body.toString()).id).toBe(event.id);

      const history = (await s.listDeliveries(hook.id)).reverse();
      expect(history.map((d) => d.attempt)).toEqual([1, 2, 3, 4, 5]);
      expect(history.map((d) => d.deliveredAt)).toEqual(expected.map((t) => new Date(t).toISOString()));
      expect(history.map((d) => d.nextAttemptAt)).toEqual([
        ...expected.slice(1).map((t) => new Date(t).toISOString()),
        null,
      ]);
      expect(history.every((d) => d.statusCode === 500 && !d.success && d.responseBody === "down")).toBe(
        true,
      );
      expect(exhausted).toEqual([
        { webhookId: hook.id, eventId: event.id, event: "user.created", lastDelivery: history[4] },
      ]);
      expect(s.pendingRetries).toBe(0);
    });

    it("honours maxAttempts for one-shot tools", async () => {
      const receiver = await server(reply(500));
      const { clock, sender: s } = setup({ maxAttempts: 1 });
      await s.createWebhook(org.id, receiver.url, ["user.created"]);
      const { deliveries } = await s.emit("user.created", { user }, org);
      expect(deliveries[0]).toMatchObject({ success: false, nextAttemptAt: null });
      expect(await clock.runAll()).toBe(0);
      expect(receiver.requests).toHaveLength(1);
    });

    it("fails an attempt that gets no response within the timeout, and retries it", async () => {
      const held: Array<() => void> = [];
      const receiver = await server((_req, res) => held.push(() => res.end()));
      const { sender: s } = setup({ timeoutMs: 200 });
      await s.createWebhook(org.id, receiver.url, ["user.created"]);

      const { deliveries } = await s.emit("user.created", { user }, org);
      expect(deliveries[0]).toMatchObject({
        attempt: 1,
        statusCode: null,
        success: false,
        errorCode: "timeout",
        error: "timeout: no complete response within 200 ms",
        nextAttemptAt: new Date(START + MINUTE).toISOString(),
      });
      expect(receiver.requests).toHaveLength(1);
      expect(s.pendingRetries).toBe(1);
      for (const release of held) release();
    });

    it.each([301, 302, 303, 307, 308])(
      "does not follow a %i redirect and counts it as a failure",
      async (status) => {
        const target = await server();
        const receiver = await server(reply(status, "moved", { location: target.url }));
        const { clock, sender: s } = setup();
        const hook = await s.createWebhook(org.id, receiver.url, ["user.created"]);

        const { deliveries } = await s.emit("user.created", { user }, org);
        await clock.runAll();

        expect(deliveries[0]).toMatchObject({
          statusCode: status,
          success: false,
          errorCode: "http_status",
          error: `http_status: ${status} redirect not followed (location: ${target.url})`,
        });
        expect(receiver.requests).toHaveLength(5);
        expect(target.requests).toHaveLength(0);
        expect((await s.listDeliveries(hook.id)).every((d) => d.statusCode === status && !d.success)).toBe(
          true,
        );
      },
    );

    it("records a refused connection as a network error and retries it", async () => {
      const port = await closedPort();
      const { clock, sender: s } = setup();
      const hook = await s.createWebhook(org.id, `http://127.0.0.1:${port}/hook`, ["user.created"]);
      const { deliveries } = await s.emit("user.created", { user }, org);
      expect(deliveries[0]).toMatchObject({ statusCode: null, success: false, errorCode: "network_error" });
      expect(deliveries[0]!.error).toMatch(/^network_error: .*ECONNREFUSED/);
      await clock.runAll();
      expect((await s.listDeliveries(hook.id)).map((d) => d.errorCode)).toEqual(
        Array(5).fill("network_error"),
      );
    });

    it("does not send pending retries of a disabled endpoint, and records that", async () => {
      const receiver = await server(reply(500));
      const exhausted: ExhaustedDelivery[] = [];
      const { clock, sender: s } = setup({ onExhausted: (e) => exhausted.push(e) });
      const hook = await s.createWebhook(org.id, receiver.url, ["user.created"]);

      await s.emit("user.created", { user }, org);
      await s.setActive(hook.id, false);
      await clock.runAll();
      await clock.advance(24 * 60 * MINUTE);

      expect(receiver.requests).toHaveLength(1);
      const [skipped, failed] = await s.listDeliveries(hook.id);
      expect(failed).toMatchObject({ attempt: 1, statusCode: 500 });
      expect(skipped).toMatchObject({
        attempt: 2,
        url: receiver.url,
        statusCode: null,
        responseBody: null,
        success: false,
        errorCode: "endpoint_disabled",
        durationMs: 0,
        deliveredAt: new Date(START + MINUTE).toISOString(),
        nextAttemptAt: null,
      });
      expect(s.pendingRetries).toBe(0);
      expect(exhausted).toEqual([]);

      // A disabled endpoint receives no new events either.
      expect((await s.emit("user.created", { user }, org)).deliveries).toEqual([]);
      expect(receiver.requests).toHaveLength(1);
    });

    it("sends a retry that comes due after the endpoint was re-enabled", async () => {
      const receiver = await server((req, res, index) => reply(index === 0 ? 500 : 200)(req, res, index));
      const { clock, sender: s } = setup();
      const hook = await s.createWebhook(org.id, receiver.url, ["user.created"]);
      await s.emit("user.created", { user }, org);
      await s.setActive(hook.id, false);
      await s.setActive(hook.id, true);
      await clock.runAll();
      expect(receiver.requests).toHaveLength(2);
      expect((await s.listDeliveries(hook.id))[0]).toMatchObject({ attempt: 2, success: true });
    });

    it("drops the pending retries of a deleted endpoint", async () => {
      const receiver = await server(reply(500));
      const { clock, sender: s } = setup();
      const hook = await s.createWebhook(org.id, receiver.url, ["user.created"]);
      await s.emit("user.created", { user }, org);
      expect(s.pendingRetries).toBe(1);
      await s.deleteWebhook(hook.id);
      expect(s.pendingRetries).toBe(0);
      expect(await clock.runAll()).toBe(0);
      expect(receiver.requests).toHaveLength(1);
      expect(await s.listDeliveries(hook.id)).toEqual([]);
    });

    it("close() cancels pending retries and refuses new events", async () => {
      const receiver = await server(reply(500));
      const { clock, sender: s } = setup();
      await s.createWebhook(org.id, receiver.url, ["user.created"]);
      await s.emit("user.created", { user }, org);
      await s.close();
      expect(s.pendingRetries).toBe(0);
      expect(clock.pending).toBe(0);
      await expect(s.emit("user.created", { user }, org)).rejects.toMatchObject({ code: "sender_closed" });
      expect(receiver.requests).toHaveLength(1);
    });
  });

  describe("history", () => {
    it("lists the newest 50 attempts of an endpoint, newest first, and keeps no more in memory", async () => {
      const receiver = await server();
      const store = memorySenderStore();
      const { sender: s } = setup({ store });
      const hook = await s.createWebhook(org.id, receiver.url, ["user.created"]);
      const ids: string[] = [];
      for (let i = 0; i < 60; i++) ids.push((await s.emit("user.created", { user }, org)).event.id);

      const history = await s.listDeliveries(hook.id);
      expect(history).toHaveLength(50);
      expect(history.map((d) => d.eventId)).toEqual(ids.slice(10).reverse());
      expect((await s.listDeliveries(hook.id, 3)).map((d) => d.eventId)).toEqual(ids.slice(57).reverse());
      expect(await store.listDeliveries(hook.id, 1_000)).toHaveLength(50);
    });
  });

  describe("connections", () => {
    it("keeps at most `concurrency` attempts in flight", async () => {
      const held: Array<() => void> = [];
      const receiver = await server((_req, res) => held.push(() => res.end("ok")));
      const { sender: s } = setup({ concurrency: 3 });
      for (let i = 0; i < 8; i++) await s.createWebhook(org.id, receiver.url, ["user.created"]);

      const emitted = s.emit("user.created", { user }, org);
      await waitFor(() => receiver.requests.length === 3);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(receiver.requests).toHaveLength(3);
      while (receiver.requests.length < 8 || held.length > 0) {
        held.shift()?.();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      expect((await emitted).deliveries.every((d) => d.success)).toBe(true);
      expect(receiver.maxInFlight).toBe(3);
    });

    it("reuses keep-alive connections for consecutive deliveries", async () => {
      const receiver = await server();
      const { sender: s } = setup();
      await s.createWebhook(org.id, receiver.url, ["user.created"]);
      for (let i = 0; i < 10; i++) await s.emit("user.created", { user }, org);
      expect(receiver.requests).toHaveLength(10);
      // undici may open a second socket while the first is being returned to its pool; never more.
      expect(new Set(receiver.requests.map((r) => r.remotePort)).size).toBeLessThanOrEqual(2);
    });
  });
});

/**
 * A bare TCP server speaking just enough HTTP/1.1 to script connection-level faults: `onRequest`
 * gets each request's index on its connection and the socket, and answers (or not) itself.
 */
async function rawServer(onRequest: (indexOnConnection: number, socket: Socket) => void) {
  const connections: Socket[] = [];
  let requests = 0;
  const listener = createNetServer((socket) => {
    connections.push(socket);
    let buffered = "";
    let onThisConnection = 0;
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      for (;;) {
        const headEnd = buffered.indexOf("\r\n\r\n");
        if (headEnd === -1) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, headEnd))?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        buffered = buffered.slice(headEnd + 4 + length);
        requests++;
        onRequest(onThisConnection++, socket);
      }
    });
  });
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  cleanup.push(
    () =>
      new Promise((resolve) => {
        for (const socket of connections) socket.destroy();
        listener.close(resolve);
      }),
  );
  return {
    url: `http://127.0.0.1:${(listener.address() as AddressInfo).port}/hook`,
    get requests() {
      return requests;
    },
    get connections() {
      return connections.length;
    },
  };
}

const OK_KEEP_ALIVE = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok";

describe("connection faults with the default client", () => {
  it("resends once, on a new connection, when a kept-alive connection closes before any response", async () => {
    // The race every keep-alive client meets: the server drops an idle connection just as the next
    // request goes out on it. Here the server drops every connection on its second request.
    const receiver = await rawServer((index, socket) => {
      if (index === 0) socket.write(OK_KEEP_ALIVE);
      else socket.destroy();
    });
    const { sender: s } = setupSender();
    await s.createWebhook(org.id, receiver.url, ["user.created"]);
    expect((await s.emit("user.created", { user }, org)).deliveries[0]).toMatchObject({ success: true });
    await new Promise((resolve) => setTimeout(resolve, 50)); // The connection is back in the pool, idle.
    const { deliveries } = await s.emit("user.created", { user }, org);
    expect(deliveries[0]).toMatchObject({ attempt: 1, success: true, statusCode: 200 });
    expect(receiver.requests).toBe(3);
    expect(receiver.connections).toBe(2);
    expect(s.pendingRetries).toBe(0);
  });

  it("does not resend when the connection closes mid-response: the attempt fails and is retried later", async () => {
    const receiver = await rawServer((_index, socket) => {
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
      setTimeout(() => socket.destroy(), 20);
    });
    const { sender: s } = setupSender();
    await s.createWebhook(org.id, receiver.url, ["user.created"]);
    const { deliveries } = await s.emit("user.created", { user }, org);
    expect(deliveries[0]).toMatchObject({ statusCode: null, success: false, errorCode: "network_error" });
    expect(receiver.requests).toBe(1);
    expect(s.pendingRetries).toBe(1);
  });

  it("one request per attempt: a receiver that drops every connection gets exactly 1 request for 1 attempt", async () => {
    const receiver = await rawServer((_index, socket) => socket.destroy());
    const { sender: s } = setupSender({ maxAttempts: 1 });
    await s.createWebhook(org.id, receiver.url, ["user.created"]);
    const { deliveries } = await s.emit("user.created", { user }, org);
    expect(deliveries[0]).toMatchObject({ success: false, errorCode: "network_error" });
    // The request went out on a fresh connection: not the reused-socket race, so no resend (SPEC §9).
    expect(receiver.requests).toBe(1);
    expect(receiver.connections).toBe(1);
  });

  it("one request per attempt: a receiver that drops every connection gets exactly 5 requests for 5 attempts", async () => {
    const receiver = await rawServer((_index, socket) => socket.destroy());
    const { clock, sender: s } = setupSender();
    const hook = await s.createWebhook(org.id, receiver.url, ["user.created"]);
    await s.emit("user.created", { user }, org);
    expect(await clock.runAll()).toBe(4);
    const history = await s.listDeliveries(hook.id);
    expect(history.map((d) => [d.attempt, d.errorCode])).toEqual(
      [5, 4, 3, 2, 1].map((attempt) => [attempt, "network_error"]),
    );
    expect(receiver.requests).toBe(5);
    expect(receiver.connections).toBe(5);
  });
});

// ---- SSRF guard (SPEC §9) -------------------------------------------------------------------------
// Production mode (no allowInsecure). The resolver is injected, and sockets are opened through an
// observed connector that lets nothing but loopback through: a guard that failed could not send traffic
// anywhere else.

interface Connection {
  hostname: string;
  servername: string | undefined;
  port: string;
}

function observedTransport() {
  const base = buildConnector({ timeout: 2_000 });
  const connections: Connection[] = [];
  const connect: buildConnector.connector = (options, callback) => {
    connections.push({
      hostname: options.hostname,
      servername: options.servername ?? undefined,
      port: options.port,
    });
    if (blockedRange(options.hostname)?.startsWith("loopback")) return base(options, callback);
    callback(new Error(`test connector: no network beyond loopback (${options.hostname})`), null);
  };
  const transport = createUndiciTransport({ connections: 4, timeoutMs: 2_000, connect });
  cleanup.push(async () => transport.close());
  return { transport, connections };
}

function resolver(answers: Record<string, string[] | string[][]>) {
  const calls: string[] = [];
  const lookup: Lookup = async (hostname) => {
    const answer = answers[hostname];
    if (answer === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    // A list of lists: one answer per call, the last one repeated.
    const nth = Array.isArray(answer[0]) ? (answer as string[][]) : [answer as string[]];
    const addresses = nth[Math.min(calls.filter((c) => c === hostname).length, nth.length - 1)]!;
    calls.push(hostname);
    return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { lookup, calls };
}

function productionSender(options: SenderOptions) {
  const clock = createVirtualClock(START);
  const created = createSender({ clock, ...options });
  cleanup.push(created.close);
  return { clock, sender: created };
}

describe("SSRF guard in production mode", () => {
  it("refuses loopback, private, link-local, CGNAT, unique-local and mapped addresses before connecting, at every attempt", async () => {
    const listener = await rawServer((_index, socket) => socket.write(OK_KEEP_ALIVE));
    const port = new URL(listener.url).port;
    const { lookup, calls } = resolver({
      "hooks.internal.test": ["10.1.2.3"],
      "mixed.test": ["93.184.216.34", "169.254.169.254"],
      "cgnat.test": ["100.64.0.7"],
      "mapped.test": ["::ffff:192.168.0.1"],
    });
    const { transport, connections } = observedTransport();
    const { clock, sender: s } = productionSender({ lookup, transport });
    const urls = [
      `https://127.0.0.1:${port}/hook`,
      `https://127.8.9.10:${port}/hook`,
      `https://0x7f.1:${port}/hook`, // URL parsing normalises it to 127.0.0.1
      `https://2130706433:${port}/hook`,
      `https://[::1]:${port}/hook`,
      `https://[::ffff:127.0.0.1]:${port}/hook`,
      "https://10.0.0.1/hook",
      "https://172.16.5.4/hook",
      "https://172.31.255.255/hook",
      "https://192.168.0.10/hook",
      "https://169.254.169.254/latest/meta-data/",
      "https://100.100.100.200/latest/meta-data/",
      "https://0.0.0.0/hook",
      "https://224.0.0.1/hook",
      "https://[fc00::1]/hook",
      "https://[fd12:3456::1]/hook",
      "https://[fe80::1]/hook",
      "https://[::]/hook",
      "https://[::ffff:10.0.0.1]/hook",
      "https://hooks.internal.test/hook",
      "https://mixed.test/hook",
      "https://cgnat.test/hook",
      "https://mapped.test/hook",
    ];
    const hooks = [];
    for (const url of urls) hooks.push(await s.createWebhook(org.id, url, ["user.created"]));

    const { deliveries } = await s.emit("user.created", { user }, org);
    expect(deliveries).toHaveLength(urls.length);
    await clock.runAll();

    for (const hook of hooks) {
      const history = await s.listDeliveries(hook.id);
      expect(
        history.map((d) => d.attempt),
        hook.url,
      ).toEqual([5, 4, 3, 2, 1]);
      for (const record of history) {
        expect(record, hook.url).toMatchObject({
          success: false,
          statusCode: null,
          errorCode: "blocked_address",
        });
        expect(record.error).toMatch(
          /^blocked_address: .* is (loopback|private|link-local|CGNAT|unspecified|multicast)/,
        );
      }
    }
    // Every attempt resolved the host again (5 attempts × 4 host names), and nothing was connected.
    expect(calls).toHaveLength(5 * 4);
    expect(connections).toEqual([]);
    expect(listener.connections).toBe(0);
  });

  it("with the default resolver, refuses localhost", async () => {
    const listener = await rawServer((_index, socket) => socket.write(OK_KEEP_ALIVE));
    const { sender: s } = productionSender({ maxAttempts: 1 });
    await s.createWebhook(org.id, `https://localhost:${new URL(listener.url).port}/hook`, ["user.created"]);
    const { deliveries } = await s.emit("user.created", { user }, org);
    expect(deliveries[0]).toMatchObject({ errorCode: "blocked_address" });
    expect(deliveries[0]!.error).toMatch(
      /^blocked_address: localhost resolves to (127\.0\.0\.1|::1), which is loopback/,
    );
    expect(listener.connections).toBe(0);
  });

  it("connects to the address it checked, with the original host as TLS server name (no DNS rebinding)", async () => {
    // The name resolves to a public address for the check, then to loopback: a client that resolved
    // again would reach the loopback listener.
    const listener = await rawServer((_index, socket) => socket.write(OK_KEEP_ALIVE));
    const port = new URL(listener.url).port;
    const { lookup, calls } = resolver({ "rebind.test": [["93.184.216.34"], ["127.0.0.1"]] });
    const { transport, connections } = observedTransport();
    const { clock, sender: s } = productionSender({ lookup, transport });
    const hook = await s.createWebhook(org.id, `https://rebind.test:${port}/hook`, ["user.created"]);

    const { deliveries } = await s.emit("user.created", { user }, org);
    expect(calls).toEqual(["rebind.test"]);
    expect(connections).toEqual([{ hostname: "93.184.216.34", servername: "rebind.test", port }]);
    expect(deliveries[0]).toMatchObject({ errorCode: "network_error" }); // The test connector refused it.
    expect(listener.connections).toBe(0);

    // The retry checks again: the name now resolves to loopback, and is refused before connecting.
    await clock.advance(MINUTE);
    expect(calls).toEqual(["rebind.test", "rebind.test"]);
    expect((await s.listDeliveries(hook.id))[0]).toMatchObject({ attempt: 2, errorCode: "blocked_address" });
    expect(connections).toHaveLength(1);
    expect(listener.connections).toBe(0);
  });

  it("checks endpoints from any store, including URLs that never went through createWebhook", async () => {
    const store = memorySenderStore();
    const base = {
      organizationId: org.id,
      events: ["user.created"],
      secret: "s",
      isActive: true,
      createdAt: "",
    };
    await store.saveWebhook({ ...base, id: "wh_metadata", url: "http://169.254.169.254/latest/meta-data/" });
    await store.saveWebhook({ ...base, id: "wh_private", url: "https://192.168.1.1/hook" });
    const { transport, connections } = observedTransport();
    const { sender: s } = productionSender({ store, transport, maxAttempts: 1 });
    const { deliveries } = await s.emit("user.created", { user }, org);
    const byId = Object.fromEntries(deliveries.map((d) => [d.webhookId, d]));
    expect(byId.wh_metadata).toMatchObject({ errorCode: "blocked_address" });
    expect(byId.wh_metadata!.error).toMatch(/only https: URLs are sent in production mode/);
    expect(byId.wh_private).toMatchObject({ errorCode: "blocked_address" });
    expect(connections).toEqual([]);
  });

  it("refuses before calling an injected fetch", async () => {
    const fetch = vi.fn(globalThis.fetch);
    const { lookup } = resolver({ "hooks.internal.test": ["10.0.0.1"] });
    const { sender: s } = productionSender({ fetch, lookup, maxAttempts: 1 });
    await s.createWebhook(org.id, "https://hooks.internal.test/hook", ["user.created"]);
    const { deliveries } = await s.emit("user.created", { user }, org);
    expect(deliveries[0]).toMatchObject({ errorCode: "blocked_address" });
    expect(fetch).not.toHaveBeenCalled();
  });

  it("records a name that does not resolve as a network error", async () => {
    const { lookup } = resolver({});
    const { transport, connections } = observedTransport();
    const { sender: s } = productionSender({ lookup, transport, maxAttempts: 1 });
    await s.createWebhook(org.id, "https://nowhere.test/hook", ["user.created"]);
    const { deliveries } = await s.emit("user.created", { user }, org);
    expect(deliveries[0]).toMatchObject({ errorCode: "network_error" });
    expect(deliveries[0]!.error).toMatch(/ENOTFOUND/);
    expect(connections).toEqual([]);
  });

  it("allowInsecure (local development) lifts the guard: no lookup, loopback delivered", async () => {
    const receiver = await server();
    const lookup = vi.fn<Lookup>();
    const { sender: s } = setupSender({ lookup });
    await s.createWebhook(org.id, receiver.url, ["user.created"]);
    expect((await s.emit("user.created", { user }, org)).deliveries[0]).toMatchObject({ success: true });
    expect(lookup).not.toHaveBeenCalled();
    expect(s.config.allowInsecure).toBe(true);
  });
});
