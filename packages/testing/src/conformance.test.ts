// runConformance drives the real sender and raw requests over real HTTP against receivers served by
// node:http on 127.0.0.1: the SDK's own receiver (must pass) and SDK receivers with one thing spoiled in
// front of them (must fail, on the row they break). Hand-written broken receivers: broken-receivers.test.ts.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createWebhooks,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENT_AGE,
  EVENT_TYPES,
  memoryStore,
  verifySignature,
  type WebhookEvent,
  type WebhooksOptions,
} from "@optare/webhooks";
import { afterEach, describe, expect, it } from "vitest";
import {
  type ConformanceCheck,
  type ConformanceReport,
  runConformance,
  UNKNOWN_EVENT_TYPE,
} from "./conformance";
import { formatConformanceReport } from "./report";
import { ROWS } from "./rows";
import { serveHandler } from "./test-receiver";

const secret = "0123456789abcdef".repeat(4);
const HOUR = 60 * 60 * 1000;

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const task of cleanup.splice(0)) await task();
});

async function serve(handle: (request: Request) => Promise<Response>): Promise<string> {
  const receiver = await serveHandler(handle);
  cleanup.push(receiver.close);
  return receiver.url;
}

const failed = (report: ConformanceReport) =>
  report.checks.filter((check) => !check.passed).map(({ name, actual }) => ({ name, actual }));
const failedRows = (report: ConformanceReport) =>
  [...new Set(report.checks.filter((check) => !check.passed).map((check) => check.row))].sort();

/** The SDK's receiver, remembering every event its handlers ran for. */
function sdkReceiver(options: Partial<WebhooksOptions> = {}) {
  const processed: WebhookEvent[] = [];
  const webhooks = createWebhooks({ secret, logger: false, ...options }).onAny((event) => {
    processed.push(event);
  });
  return { processed, handle: (request: Request) => webhooks.handle(request) };
}

/** The names of the black-box checks, for a 64-hex-character secret and the core's defaults. */
const BLACK_BOX = [
  ...EVENT_TYPES.map((type) => `accepts ${type}`),
  "accepts an unknown event type",
  "accepts a validly signed body laid out otherwise (indented, keys reordered, final newline)",
  "accepts a validly signed body with non-ASCII characters and \\u escapes",
  "accepts an event timestamped 84 min ago (Optare's last retry)",
  "accepts an event timestamped 60 s ahead (clock skew)",
  "accepts a duplicate delivery (same id, same bytes)",
  "refuses another body under an id it already processed",
  "still takes the original body for a duplicate after a conflicting one",
  "answers GET with 405 and Allow: POST",
  "answers a validly signed PUT with 405 and Allow: POST",
  "rejects a tampered body",
  "rejects an indented copy of a signed body under the original signature",
  "rejects a copy of a signed body with its keys reordered under the original signature",
  "rejects a signed body with a newline appended under the original signature",
  "rejects a signature made with another secret",
  "rejects a signature keyed with the hex-decoded secret",
  "rejects a missing signature",
  "rejects a signature with extra characters",
  "rejects a truncated signature",
  "rejects a non-hex signature",
  "rejects an unsigned body before parsing it",
  "rejects a bad signature under the id of a processed event",
  "rejects a stale timestamp",
  "rejects a timestamp more than 5 min in the future",
  "rejects malformed JSON",
  "rejects JSON that is not an event envelope",
  "refuses a known event whose data fails its schema",
  "rejects an oversize body",
  "rejects an oversize body streamed without Content-Length",
  'error bodies are {"error":{"code","message"}}',
  "error answers never echo the secret, the expected signature or the payload",
];

describe("runConformance", () => {
  it("passes every check against the SDK's own receiver, each naming its row", async () => {
    const receiver = sdkReceiver();
    const url = await serve(receiver.handle);
    const progress: Array<[string, number, number]> = [];

    const report = await runConformance({
      url,
      secret,
      onCheck: (check, { index, total }) => progress.push([check.name, index, total]),
    });

    expect(failed(report)).toEqual([]);
    expect(report).toMatchObject({ url, passed: true, cooperative: false });
    expect(report.stopped).toBeUndefined();
    expect(report.checks.map((check) => check.name)).toEqual(BLACK_BOX);
    expect(progress).toEqual(report.checks.map((check, index) => [check.name, index + 1, BLACK_BOX.length]));
    const rows = new Set<string>(Object.values(ROWS));
    for (const check of report.checks) expect(rows).toContain(check.row);
    // Every row a black box can observe is checked; the other three need cooperative mode.
    const cooperativeOnly: string[] = [ROWS.handlerThrows, ROWS.inFlight, ROWS.ackDeadline];
    expect(new Set(report.checks.map((check) => check.row))).toEqual(
      new Set(Object.values(ROWS).filter((row) => !cooperativeOnly.includes(row))),
    );
    // Every event type arrived, the unknown one too, and no event ran its handler twice.
    const types = receiver.processed.map((event) => event.event);
    expect(new Set(types)).toEqual(new Set([...EVENT_TYPES, UNKNOWN_EVENT_TYPE]));
    const ids = receiver.processed.map((event) => event.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("fails a receiver that accepts anything on every row but the acceptances", async () => {
    const url = await serve(async () => Response.json({ received: true }));
    const report = await runConformance({ url, secret });
    expect(report.passed).toBe(false);
    expect(failedRows(report)).toEqual(
      [
        ROWS.method,
        ROWS.bodyLimit,
        ROWS.signature,
        ROWS.eventAge,
        ROWS.malformed,
        ROWS.invalidData,
        ROWS.conflict,
        ROWS.errorBody,
      ].sort(),
    );
    expect(failed(report)).toContainEqual({
      name: "refuses another body under an id it already processed",
      actual: "200",
    });
    expect(failed(report)).toContainEqual({
      name: "rejects an indented copy of a signed body under the original signature",
      actual: "200",
    });
    // The text report shows, for each failure, the row it breaks.
    const text = formatConformanceReport(report);
    expect(text).toContain(
      "- refuses another body under an id it already processed\n  row:      same id, different body → 422",
    );
    expect(text).toMatch(/^FAIL {2}rejects a tampered body +expected 401 +got 200$/m);
    expect(text).toMatch(/^PASS {2}accepts user\.created +expected 2xx +got 200$/m);
  });

  it("catches a receiver that answers 500 (in plain text) to validly signed malformed JSON", async () => {
    const receiver = sdkReceiver();
    const url = await serve(async (request) => {
      const body = await request.clone().text();
      if (verifySignature(body, request.headers.get("x-optare-signature"), secret)) {
        try {
          JSON.parse(body);
        } catch {
          return new Response("internal error", { status: 500 });
        }
      }
      return receiver.handle(request);
    });
    const report = await runConformance({ url, secret });
    expect(failed(report)).toEqual([
      { name: "rejects malformed JSON", actual: "500" },
      {
        name: 'error bodies are {"error":{"code","message"}}',
        actual: expect.stringMatching(/^1 of \d+ error bodies otherwise$/),
      },
    ]);
    const check = report.checks.find((c) => c.name === "rejects malformed JSON")!;
    expect(check).toMatchObject({ row: ROWS.malformed, expected: "400", actual: "500" });
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
    expect(failed(report)).toEqual([{ name: "rejects a signature with extra characters", actual: "200" }]);
  });

  it("catches a receiver that deduplicates before it verifies", async () => {
    const receiver = sdkReceiver();
    const seen = new Set<string>();
    const url = await serve(async (request) => {
      const body = await request.clone().text();
      let eventId: string | undefined;
      try {
        eventId = (JSON.parse(body) as { id?: string }).id;
      } catch {
        // Not JSON: no id to look up.
      }
      if (eventId !== undefined && seen.has(eventId))
        return Response.json({ received: true, duplicate: true });
      const response = await receiver.handle(request);
      if (eventId !== undefined && response.ok) seen.add(eventId);
      return response;
    });
    const report = await runConformance({ url, secret });
    // It remembers ids, not bodies: another body under a known id passes for a duplicate too.
    expect(failed(report)).toEqual([
      { name: "refuses another body under an id it already processed", actual: "200" },
      { name: "rejects a bad signature under the id of a processed event", actual: "200" },
    ]);
  });

  it("catches a receiver that parses the body before it verifies the signature", async () => {
    const receiver = sdkReceiver();
    const url = await serve(async (request) => {
      try {
        if (request.method === "POST") JSON.parse(await request.clone().text());
      } catch {
        return Response.json({ error: { code: "invalid_json", message: "Not JSON." } }, { status: 400 });
      }
      return receiver.handle(request);
    });
    const report = await runConformance({ url, secret });
    expect(failed(report)).toEqual([{ name: "rejects an unsigned body before parsing it", actual: "400" }]);
  });

  it("stops after the first request, with a hint, when the receiver has another secret", async () => {
    const webhooks = createWebhooks({ secret: "not the secret the kit was given", logger: false });
    const url = await serve((request) => webhooks.handle(request));
    const report = await runConformance({ url, secret });
    expect(report.passed).toBe(false);
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]).toMatchObject({ name: "accepts user.created", passed: false, actual: "401" });
    expect(report.stopped).toEqual({ reason: "secret", message: expect.stringContaining("another secret") });
  });

  it("stops after the first request when nothing listens at the URL", async () => {
    const url = await serve(async () => new Response(null));
    await cleanup.pop()!(); // Close it: the port now refuses connections.
    const report = await runConformance({ url, secret });
    expect(report.passed).toBe(false);
    expect(report.checks).toHaveLength(1);
    expect(report.checks[0]!.actual).toMatch(/ECONNREFUSED/);
    expect(report.stopped?.reason).toBe("unreachable");
    expect(report.stopped?.message).toContain(`Is the app running at ${new URL(url).origin}?`);
  });

  it("stops after timeoutMs when the receiver never answers", async () => {
    const server = createServer(() => {}); // Holds every request.
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    cleanup.push(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/optare`;
    const started = performance.now();
    const report = await runConformance({ url, secret, timeoutMs: 300 });
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(report.stopped?.reason).toBe("unreachable");
    expect(report.stopped?.message).toContain("raise the timeout above 300 ms");
  });

  it("checks against the receiver's own limits when told them, the core's defaults otherwise", async () => {
    const loose = sdkReceiver({
      maxBodyBytes: 2 * DEFAULT_MAX_BODY_BYTES,
      maxEventAge: 2 * DEFAULT_MAX_EVENT_AGE,
      store: memoryStore({ retentionMs: 2 * DEFAULT_MAX_EVENT_AGE }),
      invalidData: "accept",
    });
    const url = await serve(loose.handle);

    const byDefault = await runConformance({ url, secret });
    expect(failed(byDefault)).toEqual([
      { name: "rejects a stale timestamp", actual: "200" },
      { name: "refuses a known event whose data fails its schema", actual: "200" },
      { name: "rejects an oversize body", actual: "200" },
      { name: "rejects an oversize body streamed without Content-Length", actual: "200" },
    ]);

    const told = await runConformance({
      url,
      secret,
      maxBodyBytes: 2 * DEFAULT_MAX_BODY_BYTES,
      maxEventAge: 2 * DEFAULT_MAX_EVENT_AGE,
      invalidData: "accept",
    });
    expect(failed(told)).toEqual([]);
    const stale = told.checks.find((check) => check.name === "rejects a stale timestamp")!;
    expect(stale.detail).toContain(`timestamped ${(2 * DEFAULT_MAX_EVENT_AGE) / HOUR} h + 1 h ago`);
  });

  it("skips the rows it is told to skip", async () => {
    const receiver = sdkReceiver();
    // A route that also lists events on GET (like the Next.js Edge example) has no 405 to give.
    const url = await serve(async (request) =>
      request.method === "POST" ? receiver.handle(request) : Response.json([]),
    );
    expect(failedRows(await runConformance({ url, secret }))).toEqual([ROWS.method]);
    const report = await runConformance({ url, secret, skip: [ROWS.method] });
    expect(failed(report)).toEqual([]);
    expect(report.checks.some((check: ConformanceCheck) => check.row === ROWS.method)).toBe(false);
  });

  it("refuses plain http: to a non-loopback host, an empty secret and a bad option", async () => {
    await expect(runConformance({ url: "http://example.com/hook", secret })).rejects.toMatchObject({
      code: "insecure_url",
    });
    await expect(runConformance({ url: "https://example.com/hook", secret: "" })).rejects.toThrow(TypeError);
    await expect(runConformance({ url: "https://example.com/hook", secret, timeoutMs: -1 })).rejects.toThrow(
      /timeoutMs must be a positive number/,
    );
  });

  it("is exported from the package entry, with its cooperative mode, rows and report formatter", async () => {
    const testing = await import("@optare/webhooks-testing");
    expect(Object.keys(testing).sort()).toEqual([
      "DEFAULT_CONFORMANCE_TIMEOUT_MS",
      "DOCS_INVITATION_ACCEPTED",
      "DOCS_USER_CREATED",
      "ROWS",
      "UNKNOWN_EVENT_TYPE",
      "cooperate",
      "createCooperativeController",
      "createEvent",
      "fixtures",
      "formatConformanceReport",
      "runConformance",
      "signEvent",
      "signedRequest",
    ]);
  });
});
