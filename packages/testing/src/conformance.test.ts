// runConformance drives the real sender over real HTTP against receivers served by node:http on
// 127.0.0.1: the SDK's own receiver (must pass) and deliberately broken ones (must fail, loudly).
import { createWebhooks, EVENT_TYPES, verifySignature, type WebhookEvent } from "@optare/webhooks";
import { afterEach, describe, expect, it } from "vitest";
import { type ConformanceReport, runConformance, UNKNOWN_EVENT_TYPE } from "./conformance";
import { serveHandler } from "./test-receiver";

const secret = "0123456789abcdef".repeat(4);
const REJECTIONS = [
  "rejects a tampered body",
  "rejects a signature made with another secret",
  "rejects a missing signature",
  "rejects a signature with extra characters",
  "rejects a truncated signature",
  "rejects a non-hex signature",
  "rejects a stale timestamp",
  "rejects malformed JSON",
  "rejects an oversize body",
];

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const task of cleanup.splice(0)) await task();
});

async function serve(handle: (request: Request) => Promise<Response>): Promise<string> {
  const receiver = await serveHandler(handle);
  cleanup.push(receiver.close);
  return receiver.url;
}

function failedChecks(report: ConformanceReport) {
  return report.checks.filter((check) => !check.passed).map(({ name, actual }) => ({ name, actual }));
}

/** The SDK's receiver, remembering every event its handlers ran for. */
function sdkReceiver() {
  const processed: WebhookEvent[] = [];
  const webhooks = createWebhooks({ secret }).onAny((event) => {
    processed.push(event);
  });
  return { processed, handle: (request: Request) => webhooks.handle(request) };
}

describe("runConformance", () => {
  it("passes every check against the SDK's own receiver", async () => {
    const receiver = sdkReceiver();
    const url = await serve(receiver.handle);

    const report = await runConformance({ url, secret });

    expect(failedChecks(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.url).toBe(url);
    expect(report.checks.map((check) => check.name)).toEqual([
      ...EVENT_TYPES.map((type) => `accepts ${type}`),
      "accepts an unknown event type",
      "accepts a duplicate delivery",
      ...REJECTIONS,
    ]);
    for (const check of report.checks) {
      expect(check.actual).toBe(check.expected === "2xx" ? "200" : check.expected);
    }
    // Every event type arrived once, the unknown one too, and the duplicate ran its handler once.
    const types = receiver.processed.map((event) => event.event);
    expect(new Set(types)).toEqual(new Set([...EVENT_TYPES, UNKNOWN_EVENT_TYPE]));
    expect(types).toHaveLength(EVENT_TYPES.length + 2);
    const ids = receiver.processed.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("fails every rejection check against a receiver that accepts anything", async () => {
    const url = await serve(async () => Response.json({ received: true }));
    const report = await runConformance({ url, secret });
    expect(report.passed).toBe(false);
    expect(failedChecks(report)).toEqual(REJECTIONS.map((name) => ({ name, actual: "200" })));
  });

  it("fails the malformed-JSON check against a receiver that answers 500 to bad JSON", async () => {
    const receiver = sdkReceiver();
    const url = await serve(async (request) => {
      const body = await request.clone().text();
      const signed = verifySignature(body, request.headers.get("x-optare-signature"), secret);
      if (signed) {
        try {
          JSON.parse(body);
        } catch {
          return new Response("internal error", { status: 500 });
        }
      }
      return receiver.handle(request);
    });
    const report = await runConformance({ url, secret });
    expect(report.passed).toBe(false);
    expect(failedChecks(report)).toEqual([{ name: "rejects malformed JSON", actual: "500" }]);
    const check = report.checks.find((c) => c.name === "rejects malformed JSON")!;
    expect(check).toMatchObject({ expected: "400", actual: "500" });
    expect(check.detail).toContain("internal error");
  });

  it("catches a receiver that only compares the first 64 characters of the signature", async () => {
    const receiver = sdkReceiver();
    const url = await serve(async (request) => {
      const signature = request.headers.get("x-optare-signature");
      const headers = new Headers(request.headers);
      if (signature !== null) headers.set("x-optare-signature", signature.slice(0, 64));
      return receiver.handle(new Request(request, { headers }));
    });
    const report = await runConformance({ url, secret });
    expect(failedChecks(report)).toEqual([
      { name: "rejects a signature with extra characters", actual: "200" },
    ]);
  });

  it("fails the event checks against a receiver configured with another secret", async () => {
    const webhooks = createWebhooks({ secret: "not the secret the kit was given" });
    const url = await serve((request) => webhooks.handle(request));
    const report = await runConformance({ url, secret });
    const failed = failedChecks(report);
    expect(failed).toHaveLength(EVENT_TYPES.length + 2 + 1); // +unknown, +duplicate, +malformed JSON (401)
    expect(failed.find((check) => check.name === "accepts user.created")).toEqual({
      name: "accepts user.created",
      actual: "401",
    });
  });

  it("reports an unreachable receiver as failures, without throwing", async () => {
    const url = await serve(async () => new Response(null));
    await cleanup.pop()!(); // close it: the port now refuses connections
    const report = await runConformance({ url, secret });
    expect(report.passed).toBe(false);
    expect(report.checks.every((check) => !check.passed)).toBe(true);
    expect(report.checks[0]!.actual).toMatch(/ECONNREFUSED/);
  });

  it("refuses plain http: to a non-loopback host and an empty secret", async () => {
    await expect(runConformance({ url: "http://example.com/hook", secret })).rejects.toMatchObject({
      code: "insecure_url",
    });
    await expect(runConformance({ url: "https://example.com/hook", secret: "" })).rejects.toThrow(TypeError);
  });
});
