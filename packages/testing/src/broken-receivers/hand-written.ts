// A webhook receiver written by hand, the way a careful user following SPEC §3 would write one without
// this SDK's `createWebhooks`: node:http, node:crypto, a Map for deduplication. As written it is correct
// and passes the conformance kit; each broken receiver in this folder replaces one of its steps with a
// mistake seen in real receivers. Test support: not part of the package's API.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENT_AGE,
  DEFAULT_MAX_FUTURE_SKEW,
  dataSchemas,
  isEventType,
} from "@optare/webhooks";
import type { CooperativeController } from "../cooperative";
import type { Row } from "../rows";

export interface Envelope {
  event: string;
  id: string;
  timestamp: string;
  data: Record<string, unknown>;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

type Claim = "claimed" | "duplicate" | "in_progress" | "conflict";

/** Processed and in-flight event ids, with the hash of the body each arrived with. */
export class EventStore {
  private readonly records = new Map<string, { state: "processing" | "completed"; hash: string }>();
  constructor(private readonly maxEntries = 10_000) {}
  get(id: string) {
    return this.records.get(id);
  }
  set(id: string, state: "processing" | "completed", hash: string): void {
    this.records.delete(id);
    this.records.set(id, { state, hash });
    if (this.records.size > this.maxEntries) this.records.delete(this.records.keys().next().value!);
  }
  complete(id: string): void {
    const record = this.records.get(id);
    if (record) this.set(id, "completed", record.hash);
  }
  release(id: string): void {
    this.records.delete(id);
  }
}

/** What a step can reach: the receiver's state and its other steps. */
export interface Tools {
  steps: Steps;
  store: EventStore;
  ackTimeoutMs: number;
  /** Ids the handlers processed, oldest first. */
  processed: string[];
  cooperative: CooperativeController | undefined;
  ok(body?: Record<string, unknown>): Reply;
  error(status: number, code: string, message: string, headers?: Record<string, string>): Reply;
}

export interface Steps {
  /** Does `method` reach the webhook logic? */
  acceptsMethod(method: string): boolean;
  /** The raw body, or "too_large" past `limit` bytes. */
  readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too_large">;
  /** Does the X-Optare-Signature header authenticate these exact bytes? */
  verify(raw: Buffer, signature: string | undefined, secret: string): boolean;
  /** The envelope, or null when the body is not JSON or not an envelope. */
  parse(raw: Buffer): Envelope | null;
  /** Is the event time within the accepted window? */
  isFresh(timestamp: string, now: number): boolean;
  /** Does a known event's `data` match its schema? (Unknown types: true.) */
  isValid(event: Envelope): boolean;
  /** Takes the event id for processing, or says why not. */
  claim(store: EventStore, id: string, hash: string): Claim;
  /** Validate, claim, run the handlers, answer. */
  deliver(event: Envelope, raw: Buffer, tools: Tools): Promise<Reply>;
  /** The application's handlers. */
  handle(event: Envelope, tools: Tools): Promise<void>;
  /** An error answer; `raw` is the request body when it was read. */
  error(
    status: number,
    code: string,
    message: string,
    headers: Record<string, string>,
    raw: Buffer | undefined,
  ): Reply;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export const sha256 = (raw: Buffer) => createHash("sha256").update(raw).digest("hex");
export const hmac = (secret: string, payload: Buffer | string) =>
  createHmac("sha256", secret).update(payload).digest("hex");

/** Resolves "done", "failed", or "timeout" when `work` is still running after `ms` (it keeps running). */
export function settle(work: Promise<unknown>, ms: number): Promise<"done" | "failed" | "timeout"> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms, "timeout");
    work.then(
      () => resolve("done"),
      () => resolve("failed"),
    );
    work.finally(() => clearTimeout(timer)).catch(() => {});
  });
}

export const correctSteps: Steps = {
  acceptsMethod: (method) => method === "POST",

  readBody(req, limit) {
    if (Number(req.headers["content-length"]) > limit) {
      req.resume(); // Discard the rest; Node then answers on the same connection.
      return Promise.resolve("too_large");
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size <= limit) return void chunks.push(chunk);
        req.off("data", onData).off("end", onEnd);
        req.resume();
        resolve("too_large");
      };
      const onEnd = () => resolve(Buffer.concat(chunks));
      req.on("data", onData).on("end", onEnd).on("error", reject);
    });
  },

  verify(raw, signature, secret) {
    if (typeof signature !== "string" || !/^[0-9a-f]{64}$/i.test(signature)) return false;
    return timingSafeEqual(Buffer.from(hmac(secret, raw), "hex"), Buffer.from(signature, "hex"));
  },

  parse(raw) {
    let value: unknown;
    try {
      value = JSON.parse(raw.toString("utf8"));
    } catch {
      return null;
    }
    if (!isObject(value) || !isObject(value.data)) return null;
    const { event, id, timestamp } = value;
    if (typeof event !== "string" || event === "" || typeof id !== "string" || id === "") return null;
    if (typeof timestamp !== "string" || Number.isNaN(Date.parse(timestamp))) return null;
    return value as unknown as Envelope;
  },

  isFresh(timestamp, now) {
    const at = Date.parse(timestamp);
    return now - at <= DEFAULT_MAX_EVENT_AGE && at - now <= DEFAULT_MAX_FUTURE_SKEW;
  },

  isValid: (event) => !isEventType(event.event) || dataSchemas[event.event].safeParse(event.data).success,

  claim(store, id, hash) {
    const record = store.get(id);
    if (record === undefined) {
      store.set(id, "processing", hash);
      return "claimed";
    }
    if (record.hash !== hash) return "conflict";
    return record.state === "completed" ? "duplicate" : "in_progress";
  },

  async deliver(event, raw, t) {
    if (!t.steps.isValid(event))
      return t.error(422, "invalid_event_data", `The data of ${event.event} does not match its schema.`);
    switch (t.steps.claim(t.store, event.id, sha256(raw))) {
      case "duplicate":
        return t.ok({ received: true, duplicate: true });
      case "in_progress":
        return t.error(409, "event_in_progress", "This event is being processed; retry later.", {
          "retry-after": "30",
        });
      case "conflict":
        return t.error(422, "event_conflict", "This event id was already received with another body.");
    }
    const work = t.steps.handle(event, t).then(
      () => t.store.complete(event.id),
      (error: unknown) => {
        t.store.release(event.id);
        throw error;
      },
    );
    const outcome = await settle(work, t.ackTimeoutMs);
    if (outcome === "timeout")
      return t.error(503, "handler_timeout", "Still processing; retry later.", { "retry-after": "30" });
    if (outcome === "failed") return t.error(500, "handler_failed", "A handler failed; retry later.");
    return t.ok();
  },

  async handle(event, t) {
    await t.cooperative?.hook(event);
    t.processed.push(event.id);
  },

  error(status, code, message, headers) {
    return {
      status,
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ error: { code, message } }),
    };
  },
};

export interface HandWrittenOptions {
  secret: string;
  /** Steps replacing the correct ones. */
  steps?: Partial<Steps>;
  /** The kit's cooperative controller, called at the start of the handlers. */
  cooperative?: CooperativeController;
  /** Answer 503 when handlers are still running after this long. Default 25 s. */
  ackTimeoutMs?: number;
}

export interface RunningReceiver {
  url: string;
  processed: string[];
  close(): Promise<void>;
}

/** Serves the hand-written receiver, with `steps` replaced, at http://127.0.0.1:<free port>/webhooks/optare. */
export async function serveHandWritten(options: HandWrittenOptions): Promise<RunningReceiver> {
  const steps: Steps = { ...correctSteps, ...options.steps };
  const processed: string[] = [];
  const tools: Tools = {
    steps,
    store: new EventStore(),
    ackTimeoutMs: options.ackTimeoutMs ?? 25_000,
    processed,
    cooperative: options.cooperative,
    ok: (body = { received: true }) => ({
      status: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }),
    error: (status, code, message, headers = {}) => steps.error(status, code, message, headers, undefined),
  };

  async function respond(req: IncomingMessage): Promise<Reply> {
    if (!steps.acceptsMethod(req.method ?? "GET")) {
      req.resume();
      return steps.error(405, "method_not_allowed", "Only POST is accepted.", { allow: "POST" }, undefined);
    }
    const raw = await steps.readBody(req, DEFAULT_MAX_BODY_BYTES);
    if (raw === "too_large")
      return steps.error(413, "payload_too_large", "The body is too large.", {}, undefined);
    const fail = (status: number, code: string, message: string) =>
      steps.error(status, code, message, {}, raw);
    const signature = req.headers["x-optare-signature"];
    if (!steps.verify(raw, typeof signature === "string" ? signature : undefined, options.secret)) {
      return fail(401, "invalid_signature", "The signature does not match the body.");
    }
    const event = steps.parse(raw);
    if (event === null) return fail(400, "invalid_payload", "The body is not an Optare event.");
    if (!steps.isFresh(event.timestamp, Date.now()))
      return fail(401, "stale_event", "The event timestamp is out of range.");
    return steps.deliver(event, raw, {
      ...tools,
      error: (status, code, message, headers = {}) => steps.error(status, code, message, headers, raw),
    });
  }

  const server = createServer((req, res) => {
    respond(req)
      // What a framework does with an exception: a 500 (here with a JSON error body).
      .catch(() => correctSteps.error(500, "internal_error", "Something went wrong.", {}, undefined))
      .then((reply) => {
        res.writeHead(reply.status, reply.headers);
        res.end(reply.body);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/optare`,
    processed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A deliberately broken receiver: the hand-written one with one step replaced by a real-world mistake. */
export interface BrokenReceiver {
  /** The file name, e.g. `never-deduplicates`. */
  name: string;
  /** The mistake, in one sentence. */
  mistake: string;
  /** The rows the kit reports broken, black box (any receiver, any language)… */
  blackBox: Row[];
  /** …and with cooperative mode on (a superset of `blackBox`). */
  cooperative: Row[];
  steps: Partial<Steps>;
}
