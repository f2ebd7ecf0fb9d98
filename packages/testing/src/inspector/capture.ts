// `optare-webhooks inspect`: an offline webhook.site. Every request to any path outside /api/ is recorded
// with its headers, raw body, signature verdict and field-level validation, pushed to the page over SSE,
// and forwarded byte for byte when --forward-to is given (its answer is relayed to the sender).
import type { IncomingMessage, ServerResponse } from "node:http";
import { DEFAULT_MAX_BODY_BYTES, SIGNATURE_HEADER } from "@optare/webhooks";
import { type FieldError, InspectorError } from "./errors";
import { type ForwardAnswer, forward } from "./forward";
import { readBody, SECURITY_HEADERS, sendError, sendJson } from "./http";
import { envelopeErrors } from "./issues";
import { startInspectorServer } from "./server";
import { createEventStream } from "./sse";
import { signatureVerdict, type Verdict } from "./verdict";

/** Captures kept (newest first); older ones are dropped. */
const KEEP = 50;

export interface CaptureOptions {
  secret: string;
  port: number;
  forwardTo?: string | undefined;
  log: (line: string) => void;
}

export interface Capture {
  id: string;
  receivedAt: string;
  method: string;
  path: string;
  /** As received, in order: [name, value] pairs. */
  headers: Array<[string, string]>;
  body: string;
  bytes: number;
  verdict: Verdict;
  validation: { event: string | null; known: boolean; errors: FieldError[] };
  forward: (ForwardAnswer & { error?: undefined }) | { error: { code: string; message: string } } | null;
}

function validate(body: Buffer): Capture["validation"] {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body.toString("utf8"));
  } catch (error) {
    return {
      event: null,
      known: false,
      errors: [{ path: "(root)", message: `not JSON: ${(error as Error).message}` }],
    };
  }
  const event = (envelope as { event?: unknown } | null)?.event;
  return { event: typeof event === "string" ? event : null, ...envelopeErrors(envelope) };
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let index = 0; index + 1 < raw.length; index += 2) out.push([raw[index]!, raw[index + 1]!]);
  return out;
}

export async function startCapture(options: CaptureOptions) {
  const stream = createEventStream();
  const captures: Capture[] = [];
  let count = 0;

  async function receive(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      throw new InspectorError("method_not_allowed", "Send webhooks with POST.");
    }
    const body = await readBody(req, DEFAULT_MAX_BODY_BYTES);
    const signature = req.headers[SIGNATURE_HEADER] as string | undefined;
    const capture: Capture = {
      id: `cap_${++count}`,
      receivedAt: new Date().toISOString(),
      method: req.method,
      path: req.url ?? "/",
      headers: pairs(req.rawHeaders),
      body: body.toString("utf8"),
      bytes: body.length,
      verdict: signatureVerdict(body, signature, options.secret),
      validation: validate(body),
      forward: null,
    };
    let failure: InspectorError | null = null;
    if (options.forwardTo !== undefined) {
      try {
        capture.forward = await forward(options.forwardTo, body, {
          contentType: req.headers["content-type"],
          signature,
        });
      } catch (error) {
        failure = error as InspectorError;
        capture.forward = { error: { code: failure.code, message: failure.message } };
      }
    }
    captures.unshift(capture);
    if (captures.length > KEEP) captures.pop();
    const event = capture.validation.event ?? "(no event)";
    const answer =
      capture.forward === null
        ? ""
        : capture.forward.error
          ? `  → ${capture.forward.error.message}`
          : `  → ${options.forwardTo} ${capture.forward.status}`;
    options.log(
      `${capture.verdict.valid ? "✓" : "✗"} ${capture.method} ${capture.path}  ${event}  signature: ${capture.verdict.code}  ${capture.bytes} B${answer}`,
    );
    stream.broadcast("capture", capture);

    if (failure !== null) return sendError(res, failure);
    const relayed = capture.forward;
    if (relayed === null || relayed.error)
      return sendJson(res, 200, { received: true, signature: capture.verdict.code });
    res.writeHead(relayed.status, {
      ...SECURITY_HEADERS,
      "content-type": relayed.contentType ?? "text/plain",
      "cache-control": "no-store",
    });
    res.end(relayed.body);
  }

  const server = await startInspectorServer({
    port: options.port,
    onError: (error) => options.log(`internal error: ${(error as Error).stack ?? error}`),
    fallback: receive,
    routes: {
      "GET /api/state": (_req, res) =>
        sendJson(res, 200, { mode: "inspect", receiveUrl, forwardTo: options.forwardTo ?? null, captures }),
      "GET /api/secret": (_req, res) => sendJson(res, 200, { secret: options.secret }),
      "GET /api/events": (req, res) => stream.open(req, res),
    },
  });
  const receiveUrl = `${server.url}webhooks/optare`;
  return {
    url: server.url,
    receiveUrl,
    port: server.port,
    async close() {
      stream.close();
      await server.close();
    },
  };
}
