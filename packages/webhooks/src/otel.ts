// `@optare/webhooks/otel`: traces and metrics for the receiver through `@opentelemetry/api`, an optional
// peer. Only this entry imports it: a receiver without `telemetry` loads and calls nothing.
import {
  type Attributes,
  context,
  type Meter,
  metrics,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { WebhookError } from "./errors";
import type { LogEntry, Telemetry } from "./receiver";

export interface OtelTelemetryOptions {
  /** Default: `trace.getTracer("@optare/webhooks")` from the global provider your SDK set up. */
  tracer?: Tracer;
  /** Default: `metrics.getMeter("@optare/webhooks")`. */
  meter?: Meter;
}

const SCOPE = "@optare/webhooks";

/**
 * OpenTelemetry for `createWebhooks({ telemetry: otelTelemetry() })`:
 * - a span `optare.webhooks.receive` (kind CONSUMER) per request, with `optare.event.id`,
 *   `optare.event.type`, `optare.webhooks.outcome` and `http.response.status_code`; the handlers run
 *   inside it, so their own spans (database, HTTP) are its children. A 5xx sets the span's status to
 *   ERROR and records the exception that caused it.
 * - a counter `optare.webhooks.requests` and a histogram `optare.webhooks.duration` (ms), both by
 *   `optare.webhooks.outcome`, `optare.event.type` and `http.response.status_code`.
 */
export function otelTelemetry(options: OtelTelemetryOptions = {}): Telemetry {
  const tracer = options.tracer ?? trace.getTracer(SCOPE);
  const meter = options.meter ?? metrics.getMeter(SCOPE);
  const requests = meter.createCounter("optare.webhooks.requests", {
    description: "Webhook deliveries received, by outcome",
  });
  const duration = meter.createHistogram("optare.webhooks.duration", {
    description: "Time to answer a webhook delivery",
    unit: "ms",
  });

  return {
    start() {
      const span = tracer.startSpan("optare.webhooks.receive", { kind: SpanKind.CONSUMER });
      const active = trace.setSpan(context.active(), span);
      return {
        run: (work) => context.with(active, work),
        end(entry: LogEntry, error?: WebhookError) {
          const attributes: Attributes = {
            "optare.webhooks.outcome": entry.outcome,
            "http.response.status_code": entry.status,
          };
          if (entry.eventType !== undefined) attributes["optare.event.type"] = entry.eventType;
          requests.add(1, attributes);
          duration.record(entry.durationMs, attributes);
          if (entry.eventId !== undefined) span.setAttribute("optare.event.id", entry.eventId);
          span.setAttributes(attributes);
          if (error !== undefined && entry.status >= 500) {
            const cause = error.cause instanceof Error ? error.cause : error;
            span.recordException(cause);
            span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.code}: ${error.message}` });
          }
          span.end();
        },
      };
    },
  };
}
