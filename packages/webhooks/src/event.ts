import { z } from "zod";
import { catalog, type EventData, type EventType, isEventType } from "./catalog";
import type { Bytes } from "./crypto-node";
import { WebhookError } from "./errors";
import {
  type Payload,
  parseSignature,
  type Secrets,
  secretList,
  signatureCandidate,
  signedByAny,
  toBytes,
} from "./verify";

/**
 * The envelope every delivery shares, as a zod schema for your own use (stored events, tests). The
 * receiver checks the same rules with `envelopeProblem`, a hand-written twin that copies nothing; a
 * property test keeps the two in agreement.
 */
export const envelopeSchema = z.looseObject({
  event: z.string().min(1),
  id: z.string().min(1),
  timestamp: z.string().refine((value) => !Number.isNaN(Date.parse(value)), "not an ISO-8601 timestamp"),
  data: z.looseObject({}),
  // Optional: the documentation's own member.invitation.accepted sample carries it only inside `data`.
  organization: z.looseObject({ id: z.string(), name: z.string() }).optional(),
});

export type Envelope = z.output<typeof envelopeSchema>;

interface EnvelopeFields {
  /** Unique event id (`evt_…`); the same on every retry. Deduplicate on it. */
  id: string;
  /** When the event happened (ISO-8601), not when it was delivered. */
  timestamp: string;
  /** The organization the event belongs to. Absent from some of Optare's own samples. */
  organization?: { id: string; name: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** A known event, with `data` narrowed by `event`. `OptareEvent<"user.created">` is one type. */
export type OptareEvent<T extends EventType = EventType> = {
  [K in T]: EnvelopeFields & { event: K; data: EventData<K> };
}[T];

/**
 * An event whose type is not in the catalog (Optare shipped a new one): delivered untyped, never rejected.
 * Its `event` is any string, so it cannot be told apart by `event.event === "…"` alone: check
 * `isKnownEvent(event)` first, then `switch (event.event)` narrows `data`.
 */
export type UnknownEvent = EnvelopeFields & { event: string; data: Record<string, unknown> };

/** What `constructEvent` returns: a typed known event, or an unknown one. */
export type WebhookEvent = OptareEvent | UnknownEvent;

/** True for the 27 catalog events; narrows `WebhookEvent` to the typed union. */
export function isKnownEvent(event: WebhookEvent): event is OptareEvent {
  return isEventType(event.event);
}

export interface ParseOptions {
  /** Reject events whose timestamp is older than this many milliseconds. Default 24 hours. */
  maxEventAge?: number;
  /** Reject events timestamped further than this many milliseconds ahead. Default 5 minutes. */
  maxFutureSkew?: number;
  /** The clock, in epoch milliseconds. Default `Date.now`. */
  now?: () => number;
  /**
   * A known event whose `data` fails its schema: `"reject"` (default) throws `invalid_event_data` (422);
   * `"accept"` returns it unvalidated, so its `data` may not match its type.
   */
  invalidData?: "reject" | "accept";
}

export const DEFAULT_MAX_EVENT_AGE = 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_FUTURE_SKEW = 5 * 60 * 1000;

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What makes `value` not an envelope (the rules of `envelopeSchema`), or null when it is one. */
export function envelopeProblem(value: unknown): string | null {
  if (!isObject(value)) return "expected a JSON object";
  if (typeof value.event !== "string" || value.event === "") return "event: expected a non-empty string";
  if (typeof value.id !== "string" || value.id === "") return "id: expected a non-empty string";
  if (typeof value.timestamp !== "string" || Number.isNaN(Date.parse(value.timestamp))) {
    return "timestamp: expected an ISO-8601 timestamp";
  }
  if (!isObject(value.data)) return "data: expected an object";
  const organization = value.organization;
  if (
    organization !== undefined &&
    !(isObject(organization) && typeof organization.id === "string" && typeof organization.name === "string")
  ) {
    return "organization: expected { id, name }";
  }
  return null;
}

function describeIssues(error: z.ZodError): string {
  // Paths and expectations only: never the received values, which belong to the payload.
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`)
    .join("; ");
}

/**
 * Parses a body whose signature has already been verified: UTF-8 → JSON → envelope → event age →
 * the event type's `data` schema.
 */
export function parseEvent(body: Bytes, options: ParseOptions = {}): WebhookEvent {
  let json: unknown;
  try {
    json = JSON.parse(typeof body === "string" ? body : decoder.decode(body));
  } catch {
    throw new WebhookError("invalid_json", "The body is not valid UTF-8 JSON.");
  }
  const problem = envelopeProblem(json);
  if (problem !== null) {
    throw new WebhookError("invalid_envelope", `The body is not an Optare event envelope (${problem}).`);
  }
  const event = json as Envelope;

  const now = options.now?.() ?? Date.now();
  const at = Date.parse(event.timestamp);
  if (now - at > (options.maxEventAge ?? DEFAULT_MAX_EVENT_AGE)) {
    throw new WebhookError("event_too_old", "The event is older than maxEventAge; it may be a replay.");
  }
  if (at - now > (options.maxFutureSkew ?? DEFAULT_MAX_FUTURE_SKEW)) {
    throw new WebhookError("event_in_future", "The event timestamp is too far in the future; check clocks.");
  }

  if (!isEventType(event.event)) return event as UnknownEvent;
  const data = catalog[event.event].data.safeParse(event.data);
  if (data.success) {
    event.data = data.data;
  } else if (options.invalidData !== "accept") {
    throw new WebhookError(
      "invalid_event_data",
      `The data of ${event.event} does not match its schema (${describeIssues(data.error)}).`,
    );
  }
  return event as OptareEvent;
}

/** Why a signature header fails to authenticate a body, or null when it is valid under one of `secrets`. */
export function signatureFailure(
  body: Bytes,
  signature: unknown,
  secrets: readonly string[],
): WebhookError | null {
  if (signature === null || signature === undefined || signature === "") {
    return new WebhookError("signature_missing", "The X-Optare-Signature header is missing.");
  }
  const candidate = signatureCandidate(signature);
  if (candidate !== null && signedByAny(body, candidate, secrets)) return null;
  if (parseSignature(signature) === null) {
    return new WebhookError("signature_malformed", "The X-Optare-Signature header is not 64 hex characters.");
  }
  return new WebhookError(
    "signature_mismatch",
    "The signature does not match the body under any configured secret.",
  );
}

/**
 * Verifies and parses one delivery. `payload` must be the raw body exactly as received (a string or
 * bytes); `signature` is the `X-Optare-Signature` header. Throws `WebhookError` whose `code` says what
 * failed and whose `status` is the HTTP status to answer with.
 */
export function constructEvent(
  payload: Payload,
  signature: string | null | undefined,
  secrets: Secrets,
  options: ParseOptions = {},
): WebhookEvent {
  const list = secretList(secrets);
  if (list.length === 0) {
    throw new WebhookError(
      "invalid_configuration",
      "No webhook secret configured: pass the endpoint secret (e.g. process.env.OPTARE_WEBHOOK_SECRET).",
    );
  }
  const body = toBytes(payload);
  if (body === null) {
    throw new WebhookError(
      "raw_body_required",
      "constructEvent needs the raw request body (string or bytes), not a parsed object: the signature " +
        "covers the exact bytes. Read it with `await request.text()`, `express.raw({ type: 'application/json' })` " +
        "or by disabling your framework's JSON body parser for this route.",
    );
  }
  const failure = signatureFailure(body, signature, list);
  if (failure !== null) throw failure;
  return parseEvent(body, options);
}
