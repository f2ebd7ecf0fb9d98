// `optare-webhooks dev`: the reference sender pointed at the developer's app, and the page that drives
// it. Routes only parse, call the dev sender (dev-sender.ts) and answer; deliveries reach the page over SSE.
import { catalog, EVENT_TYPES, isEventType } from "@optare/webhooks";
import { fixtures } from "../fixtures";
import { createDevSender, type DeliveryView } from "./dev-sender";
import { type FieldError, InspectorError } from "./errors";
import { readJson, sendJson, stringField } from "./http";
import { dataErrors } from "./issues";
import { startInspectorServer } from "./server";
import { createEventStream } from "./sse";

const BODY_LIMIT = 1024 * 1024;

export interface DevOptions {
  /** The app's receiving URL. */
  forwardTo: string;
  secret: string;
  port: number;
  /** One line per delivery and per problem, for the terminal. */
  log: (line: string) => void;
  tickMs?: number;
}

/** Parses the editor's text into an event's `data`, or throws 400 invalid_json / 422 invalid_payload. */
function parsePayload(type: string, text: string): { data: Record<string, unknown>; errors: FieldError[] } {
  if (!isEventType(type)) {
    throw new InspectorError(
      "unknown_event_type",
      `${type} is not one of the ${EVENT_TYPES.length} event types.`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const message = `not JSON: ${(error as Error).message}`;
    throw new InspectorError("invalid_json", `The payload is ${message}`, [{ path: "(root)", message }]);
  }
  return { data: data as Record<string, unknown>, errors: dataErrors(type, data) };
}

export function describeDelivery(view: DeliveryView): string {
  const status = view.statusCode === null ? "---" : String(view.statusCode);
  const mark = view.success ? "✓" : "✗";
  const retry = view.nextAttemptAt ? `  next attempt ${view.nextAttemptAt}` : "";
  const why = view.error && view.statusCode === null ? `  ${view.error}` : "";
  const tampered = view.tampered ? "  (tampered signature)" : "";
  return `${mark} ${status}  ${view.event}  ${view.eventId}  attempt ${view.attempt}  ${Math.round(view.durationMs)} ms${tampered}${why}${retry}`;
}

export async function startDev(options: DevOptions) {
  const stream = createEventStream();
  const publishRetries = () => setImmediate(() => stream.broadcast("retries", dev.retries()));
  const dev = await createDevSender({
    url: options.forwardTo,
    secret: options.secret,
    tickMs: options.tickMs,
    onDelivery: (view) => {
      options.log(describeDelivery(view));
      if (view.errorCode === "network_error" || view.errorCode === "timeout") {
        options.log(`  ${options.forwardTo} did not answer: is your app running there?`);
      }
      stream.broadcast("delivery", view);
      publishRetries();
    },
  });
  const sentEvent = (body: Record<string, unknown>) => {
    const eventId = stringField(body, "eventId");
    const event = dev.find(eventId);
    if (event === null)
      throw new InspectorError("unknown_event", `No event ${eventId} was sent from this page.`);
    return { eventId, event };
  };

  const server = await startInspectorServer({
    port: options.port,
    onError: (error) => options.log(`internal error: ${(error as Error).stack ?? error}`),
    routes: {
      "GET /api/state": async (_req, res) =>
        sendJson(res, 200, {
          mode: "dev",
          forwardTo: options.forwardTo,
          endpoint: { id: dev.webhook.id, url: dev.webhook.url, isActive: await dev.isActive() },
          types: EVENT_TYPES.map((type) => ({
            type,
            ...catalog[type],
            data: undefined,
            fixture: fixtures[type],
          })),
          deliveries: await dev.history(),
          retries: dev.retries(),
        }),
      "GET /api/secret": (_req, res) => sendJson(res, 200, { secret: options.secret }),
      "GET /api/events": (req, res) => stream.open(req, res),
      "POST /api/validate": async (req, res) => {
        const body = await readJson(req, BODY_LIMIT);
        try {
          const { errors } = parsePayload(stringField(body, "type"), String(body.payload ?? ""));
          sendJson(res, 200, { valid: errors.length === 0, errors });
        } catch (error) {
          if (!(error instanceof InspectorError && error.code === "invalid_json")) throw error;
          sendJson(res, 200, { valid: false, code: error.code, errors: error.fields });
        }
      },
      "POST /api/send": async (req, res) => {
        const body = await readJson(req, BODY_LIMIT);
        const type = stringField(body, "type");
        const { data, errors } = parsePayload(type, String(body.payload ?? ""));
        if (errors.length > 0) {
          throw new InspectorError(
            "invalid_payload",
            `The ${type} payload does not match its schema.`,
            errors,
          );
        }
        if (!(await dev.isActive())) {
          throw new InspectorError("endpoint_paused", "The endpoint is paused: resume it to send.");
        }
        sendJson(res, 200, await dev.send(type, data, body.tampered === true));
      },
      "POST /api/resend": async (req, res) => {
        const { event } = sentEvent(await readJson(req, BODY_LIMIT));
        sendJson(res, 200, await dev.resend(event));
      },
      "POST /api/duplicate": async (req, res) => {
        const { eventId, event } = sentEvent(await readJson(req, BODY_LIMIT));
        sendJson(res, 200, await dev.duplicate(eventId, event));
      },
      "POST /api/retries/run": async (req, res) => {
        await readJson(req, BODY_LIMIT);
        const attempts = await dev.runRetriesNow();
        publishRetries();
        sendJson(res, 200, { attempts, retries: dev.retries() });
      },
      "POST /api/endpoint": async (req, res) => {
        const { active } = await readJson(req, BODY_LIMIT);
        if (typeof active !== "boolean")
          throw new InspectorError("invalid_request", '"active" must be true or false.');
        const isActive = await dev.setActive(active);
        options.log(`endpoint ${isActive ? "active" : "paused"}`);
        stream.broadcast("endpoint", { isActive });
        sendJson(res, 200, { isActive });
      },
    },
  }).catch(async (error: unknown) => {
    await dev.close();
    throw error;
  });

  return {
    url: server.url,
    port: server.port,
    webhookId: dev.webhook.id,
    async close() {
      stream.close();
      await server.close();
      await dev.close();
    },
  };
}
