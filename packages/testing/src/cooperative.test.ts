// Cooperative mode against a real receiver: createWebhooks + createNodeHandler on a loopback port, the
// controller installed from the test with cooperate(webhooks), exactly as the README tells users to.
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhooks, type WebhooksOptions } from "@optare/webhooks";
import { createNodeHandler } from "@optare/webhooks/node";
import { afterEach, describe, expect, it } from "vitest";
import { type ConformanceReport, runConformance } from "./conformance";
import { cooperate, cooperativeStateOf, createCooperativeController } from "./cooperative";
import { PlannedFailure } from "./cooperative-state";
import { createEvent } from "./fixtures";
import { ROWS } from "./rows";
import { signEvent } from "./signing";

const secret = "0123456789abcdef".repeat(4);
const ackTimeoutMs = 300;

const COOPERATIVE = [
  "runs the handler once for each accepted delivery",
  "does not run the handler again for a duplicate",
  "does not run the handler for a body conflicting with a processed id",
  "answers 5xx when a handler throws",
  "runs the handler again on the retry after it threw, then answers 2xx",
  "answers 409 with Retry-After to a duplicate while the first is processing",
  "answers 503 with Retry-After when a handler outlives the ack deadline",
  "the retry after the ack deadline sees the outcome: a duplicate, not run again",
];

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const task of cleanup.splice(0)) await task();
});

async function listen(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/optare`;
}

/** The app under test: an SDK receiver with a handler of its own, served by createNodeHandler. */
async function app(options: Partial<WebhooksOptions> = {}) {
  const created: string[] = [];
  const webhooks = createWebhooks({ secret, ackTimeoutMs, logger: false, ...options });
  webhooks.on("user.created", (event) => {
    created.push(event.id);
  });
  const url = await listen(createNodeHandler(webhooks));
  return { webhooks, url, created };
}

const failed = (report: ConformanceReport) =>
  report.checks.filter((check) => !check.passed).map(({ name, actual }) => ({ name, actual }));

describe("cooperative mode", () => {
  it("passes every check, black box and cooperative, against createWebhooks + createNodeHandler", async () => {
    const { webhooks, url, created } = await app();
    const cooperative = cooperate(webhooks);

    const report = await runConformance({ url, secret, cooperative, ackTimeoutMs });

    expect(failed(report)).toEqual([]);
    expect(report).toMatchObject({ passed: true, cooperative: true });
    const names = report.checks.map((check) => check.name);
    expect(names.slice(-COOPERATIVE.length - 2, -2)).toEqual(COOPERATIVE);
    expect(new Set(report.checks.map((check) => check.row))).toEqual(new Set(Object.values(ROWS)));
    // The app's own handler saw the kit's events: the hook is one more handler, not a replacement.
    expect(created.length).toBeGreaterThan(5);
  });

  it("fails, quickly and with a hint, when the controller is not installed on the receiver", async () => {
    const { url } = await app();
    const elsewhere = cooperate(createWebhooks({ secret, logger: false })); // Another instance.
    const started = performance.now();
    const report = await runConformance({ url, secret, cooperative: elsewhere, ackTimeoutMs });
    expect(performance.now() - started).toBeLessThan(5_000);
    const cooperativeChecks = report.checks.filter((check) => COOPERATIVE.includes(check.name));
    expect(cooperativeChecks).toHaveLength(COOPERATIVE.length);
    for (const check of cooperativeChecks) {
      expect(check.passed).toBe(false);
      expect(check.detail).toContain("cooperate(webhooks)");
    }
    expect(report.checks.filter((check) => !check.passed)).toHaveLength(COOPERATIVE.length);
  });

  it("catches a receiver that does not deduplicate (store: false): the duplicate ran twice", async () => {
    const { webhooks, url } = await app({ store: false });
    const report = await runConformance({ url, secret, cooperative: cooperate(webhooks), ackTimeoutMs });
    const rows = new Set(report.checks.filter((check) => !check.passed).map((check) => check.row));
    expect(rows).toEqual(new Set([ROWS.conflict, ROWS.duplicate, ROWS.inFlight, ROWS.ackDeadline]));
    expect(failed(report)).toContainEqual({
      name: "does not run the handler again for a duplicate",
      actual: "2 runs",
    });
  });

  it("reports a timeout when the receiver's ack deadline is longer than the one the kit was told", async () => {
    // The receiver's ack deadline is longer than the kit was told: the 503 never comes in time.
    const { webhooks, url } = await app({ ackTimeoutMs: 3_000 });
    const report = await runConformance({
      url,
      secret,
      cooperative: cooperate(webhooks),
      ackTimeoutMs,
      timeoutMs: 500,
    });
    expect(failed(report)).toContainEqual({
      name: "answers 503 with Retry-After when a handler outlives the ack deadline",
      actual: "timeout (no answer within 800 ms)",
    });
  });
});

describe("the cooperative controller", () => {
  it("does nothing for events the kit did not plan, whatever their id or content", async () => {
    const controller = createCooperativeController();
    const state = cooperativeStateOf(controller);
    await expect(controller.hook({ id: "evt_conformance_throws_1" })).resolves.toBeUndefined();
    await expect(controller.hook(createEvent("user.created"))).resolves.toBeUndefined();
    expect(state.runs("evt_conformance_throws_1")).toEqual({ started: 0, finished: 0, failed: 0 });

    // Only the kit, in process, plans: a planned id throws once, then runs.
    state.watch("evt_planned", { throwOnce: true });
    await expect(controller.hook({ id: "evt_planned" })).rejects.toBeInstanceOf(PlannedFailure);
    await expect(controller.hook({ id: "evt_planned" })).resolves.toBeUndefined();
    expect(state.runs("evt_planned")).toEqual({ started: 2, finished: 1, failed: 1 });

    // After a run the kit forgets every id.
    state.reset();
    expect(state.runs("evt_planned")).toEqual({ started: 0, finished: 0, failed: 0 });
  });

  it("is inert when reached over HTTP: a request naming a kit-style id runs normally", async () => {
    const webhooks = createWebhooks({ secret, logger: false });
    const controller = cooperate(webhooks);
    cooperativeStateOf(controller).watch("evt_someone_elses", { throwOnce: true });
    const { body, headers } = signEvent(
      createEvent("user.created", { id: "evt_conformance_throws_x" }),
      secret,
    );
    const response = await webhooks.handle(
      new Request("http://localhost/hook", { method: "POST", body, headers }),
    );
    expect(response.status).toBe(200);
  });

  it("holds a planned wait no longer than maxBlockMs", async () => {
    const controller = createCooperativeController({ maxBlockMs: 50 });
    const state = cooperativeStateOf(controller);
    state.watch("evt_held", { block: true });
    const started = performance.now();
    await controller.hook({ id: "evt_held" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(40);
    expect(state.runs("evt_held")).toEqual({ started: 1, finished: 1, failed: 0 });
  });

  it("is refused by runConformance when it is not a controller", async () => {
    await expect(
      runConformance({ url: "http://127.0.0.1:9/hook", secret, cooperative: { hook: async () => {} } }),
    ).rejects.toThrow(/cooperative must be a controller from cooperate\(webhooks\)/);
  });
});
