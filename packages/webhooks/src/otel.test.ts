// OpenTelemetry through the real SDK (in-memory exporters): spans and counters per delivery.
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { afterAll, describe, expect, it } from "vitest";
import { otelTelemetry } from "./otel";
import { createWebhooks } from "./receiver";

const secret = "0123456789abcdef".repeat(4);
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
const contextManager = new AsyncLocalStorageContextManager().enable();
context.setGlobalContextManager(contextManager);

afterAll(async () => {
  context.disable();
  await meterProvider.shutdown();
});

function post(event: ReturnType<typeof createEvent>) {
  const { body, headers } = signEvent(event, secret);
  return new Request("http://localhost/", { method: "POST", body, headers });
}

describe("otelTelemetry", () => {
  it("ends one span per request with the outcome, runs handlers inside it, and counts by outcome", async () => {
    const tracer = tracerProvider.getTracer("test");
    const telemetry = otelTelemetry({ tracer, meter: meterProvider.getMeter("test") });
    const webhooks = createWebhooks({ secret, telemetry, logger: false });
    let parentOfHandlerSpan: string | undefined;
    webhooks.on("user.created", () => {
      const child = tracer.startSpan("crm.upsert");
      parentOfHandlerSpan = (child as unknown as { parentSpanContext?: { spanId: string } }).parentSpanContext
        ?.spanId;
      child.end();
    });
    webhooks.on("user.deleted", () => {
      throw new Error("crm is down");
    });

    const created = createEvent("user.created");
    expect((await webhooks.handle(post(created))).status).toBe(200);
    expect((await webhooks.handle(post(created))).status).toBe(200); // duplicate
    expect((await webhooks.handle(post(createEvent("user.deleted")))).status).toBe(500);
    const tampered = post(createEvent("user.created"));
    tampered.headers.set("x-optare-signature", "0".repeat(64));
    expect((await webhooks.handle(tampered)).status).toBe(401);

    const finished = spans.getFinishedSpans();
    const receives = finished.filter((span) => span.name === "optare.webhooks.receive");
    expect(receives.map((span) => span.attributes["optare.webhooks.outcome"])).toEqual([
      "processed",
      "duplicate",
      "handler_failed",
      "signature_mismatch",
    ]);
    expect(receives[0]!.attributes).toMatchObject({
      "optare.event.id": created.id,
      "optare.event.type": "user.created",
      "http.response.status_code": 200,
    });
    // The handler's own span is a child of the delivery's span.
    expect(parentOfHandlerSpan).toBe(receives[0]!.spanContext().spanId);
    expect(receives[2]!.status.code).toBe(2); // ERROR
    expect(receives[2]!.events.map((event) => event.name)).toContain("exception");
    expect(receives[3]!.status.code).toBe(0); // a 401 is the client's fault, not the span's error

    await reader.forceFlush();
    const metrics = metricExporter
      .getMetrics()
      .at(-1)!
      .scopeMetrics.flatMap((scope) => scope.metrics);
    const counter = metrics.find((metric) => metric.descriptor.name === "optare.webhooks.requests")!;
    const byOutcome = Object.fromEntries(
      counter.dataPoints.map((point) => [point.attributes["optare.webhooks.outcome"], point.value]),
    );
    expect(byOutcome).toEqual({ processed: 1, duplicate: 1, handler_failed: 1, signature_mismatch: 1 });
    const histogram = metrics.find((metric) => metric.descriptor.name === "optare.webhooks.duration");
    expect(histogram?.dataPoints.length).toBe(4);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it("is not loaded by the core: the main entry imports nothing from @opentelemetry", async () => {
    const { readFileSync } = await import("node:fs");
    for (const file of ["receiver.ts", "index.ts", "router.ts", "log.ts"]) {
      const source = readFileSync(new URL(`./${file}`, import.meta.url), "utf8");
      expect(source).not.toMatch(/from "@opentelemetry/);
    }
  });
});
