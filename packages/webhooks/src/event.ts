import * as z from "zod/mini";
import { catalog, type EventData, type EventType, isEventType } from "./catalog";
import type { Bytes } from "./crypto-node";
import { asWebhookError, WebhookError } from "./errors";
import { functionOption, integerOption, objectOption, oneOfOption, secretsOption } from "./options";
import type { Flatten } from "./types";
import {
  type Payload,
  parseSignature,
  type Secrets,
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
  event: z.string().check(z.minLength(1)),
  id: z.string().check(z.minLength(1)),
  timestamp: z.string().check(z.refine(isTimestamp, "not an ISO-8601 timestamp with a time zone")),
  data: z.looseObject({}),
  // Optional: the documentation's own member.invitation.accepted sample carries it only inside `data`.
  organization: z.optional(z.looseObject({ id: z.string(), name: z.string() })),
});

export type Envelope = z.output<typeof envelopeSchema>;

/**
 * The fields every event has besides `event` and `data`. Exact, like `data`: no index signature, so a
 * misspelled field does not compile; fields Optare adds to the envelope are read with `withExtras(event)`.
 */
type EnvelopeFields = {
  /** Unique event id (`evt_…`); the same on every retry. Deduplicate on it. */
  id: string;
  /** When the event happened (ISO-8601), not when it was delivered. */
  timestamp: string;
  /**
   * The organization the event belongs to. Optional: Optare's own `member.invitation.accepted` sample
   * payload omits the top-level `organization` (it carries it only inside `data`).
   */
  organization?: { id: string; name: string };
};

// How `switch (event.event)` narrows a `WebhookEvent` without `isKnownEvent` first.
//
// On `case "user.created":` (or `===`) TypeScript keeps every union member whose `event` type is
// *comparable* to "user.created". A member declared `event: string` is comparable to every literal, so
// it stays in every case and `data` never narrows. Branding that string (`string & { __brand?: never }`
// or a unique-symbol brand) does not help: tsc 5.9 still finds a branded string comparable to every
// literal. And comparability cannot tell "user.created" from "some.new.type", so any `event` type that
// made the first case drop the unknown event would also make `event.event === "some.new.type"` an error.
//
// What works is the checker's lookup for large discriminated unions: when 10 or more members are object
// types whose `event` is a literal, and no member *declares* `event` with a non-literal type, a case
// picks exactly the member keyed by its literal. Hence:
// - each known event is one object type (`KnownEvent<K>`, flattened): an intersection is not counted;
// - the unknown event (`UntypedEvent`) gets its `event` from a template-literal index signature, which
//   the lookup does not see, so `event.event` still reads as `string` and comparing it with any string
//   (`=== "some.new.type"`) compiles; `default:` keeps it, since a `string` is never ruled out;
// - under `noUncheckedIndexedAccess` a read through that index signature alone would be
//   `string | undefined`, so `UnknownEvent` adds an impossible member (`EmptyTypeEvent`) declaring
//   `event: ""`, which the envelope check rejects: on the union `event` reads `string | ""`, a plain
//   `string`, and a misspelled field (`event.eventt`) stays an error since that member declares none.
// Narrowing this way is sound: `constructEvent` returns an `UnknownEvent` only when the type string is
// not one of the 27 (`isEventType`), so `event.event === "user.created"` does prove a known event.
// event.test-d.ts pins each of these behaviours.

/** One known event of type `K`: `OptareEvent<K>` for a single `K`. */
type KnownEvent<K extends EventType> = Flatten<
  EnvelopeFields & {
    /** The event type, one of the catalog's. */
    event: K;
    /** The payload, validated against the catalog schema of `event` (exact: see `EventData`). */
    data: EventData<K>;
  }
>;

/** A known event, with `data` narrowed by `event`. `OptareEvent<"user.created">` is one type. */
export type OptareEvent<T extends EventType = EventType> = {
  [K in T]: KnownEvent<K>;
}[T];

/** An event of a type this SDK version does not know. Its `event` comes from the index signature. */
type UntypedEvent = Flatten<
  EnvelopeFields & {
    /** The event type: never one of the 27 known ones (those are `OptareEvent`s). */
    [event: `event${string}`]: string;
    /** The payload, unvalidated. */
    data: Record<string, unknown>;
  }
>;

/** Never delivered (an empty `event` fails the envelope check): only makes `event` read as `string`. */
type EmptyTypeEvent = Flatten<
  EnvelopeFields & {
    /** The event type: never one of the 27 known ones (those are `OptareEvent`s). */
    event: "";
    /** The payload, unvalidated. */
    data: Record<string, unknown>;
  }
>;

/**
 * An event whose type is not in the catalog (Optare shipped a new one): delivered untyped, never rejected.
 * Its `event` is a `string` that is never one of the 27 known types, so `switch (event.event)` on a
 * `WebhookEvent` narrows `data` in each known case and leaves the unknown event to `default:`, with no
 * `isKnownEvent` needed; `event.event === "some.new.type"` compiles too. A union, so an interface cannot
 * extend it (use an intersection).
 */
export type UnknownEvent = UntypedEvent | EmptyTypeEvent;

/**
 * What `constructEvent` returns: a typed known event, or an unknown one. `switch (event.event)` narrows it.
 *
 * @example
 * ```ts
 * const event = constructEvent(body, signature, secret);
 * switch (event.event) {
 *   case "user.created":
 *     console.log(event.data.user.email); // typed: EventData<"user.created">
 *     break;
 *   default:
 *     console.log("unhandled", event.event); // other known events, and unknown ones
 * }
 * ```
 */
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

/** `ParseOptions` checked, with every default filled in. */
export interface ResolvedParseOptions {
  maxEventAge: number;
  maxFutureSkew: number;
  now: () => number;
  invalidData: "reject" | "accept";
}

const DEFAULT_PARSE_OPTIONS: ResolvedParseOptions = Object.freeze({
  maxEventAge: DEFAULT_MAX_EVENT_AGE,
  maxFutureSkew: DEFAULT_MAX_FUTURE_SKEW,
  now: Date.now,
  invalidData: "reject",
});

/** Checks `ParseOptions` (throwing `invalid_configuration` on a bad one) and fills in the defaults. */
export function resolveParseOptions(where: string, value: unknown): ResolvedParseOptions {
  if (value === undefined) return DEFAULT_PARSE_OPTIONS;
  const options = objectOption(where, value);
  return {
    maxEventAge: integerOption(where, "maxEventAge", options.maxEventAge, DEFAULT_MAX_EVENT_AGE),
    maxFutureSkew: integerOption(where, "maxFutureSkew", options.maxFutureSkew, DEFAULT_MAX_FUTURE_SKEW, {
      min: 0,
    }),
    now: functionOption<() => number>(where, "now", options.now) ?? Date.now,
    invalidData: oneOfOption(where, "invalidData", options.invalidData, ["reject", "accept"]) ?? "reject",
  };
}

// RFC 3339 / ISO-8601 with a date, a time and a zone (Z or ±hh:mm), `T` between date and time. `Date.parse`
// alone would also take "Nov 11 2025", a date without a time, or a zone-less time read in the receiver's
// local zone; and with a space instead of `T` V8 falls back to a lenient parser that reads
// "0011-11-25 10:30:00Z" as a date in 2025 (so a replay could pass the age check).
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** The epoch milliseconds of an ISO-8601 timestamp with a zone, or NaN for anything else. */
export function parseTimestamp(value: string): number {
  return TIMESTAMP.test(value) ? timeOf(value) : Number.NaN;
}

let lastTimestamp: string | undefined;
let lastTime = Number.NaN;

/**
 * `Date.parse`, remembering its last answer: a delivery's timestamp is read by the envelope check, the
 * age check and the store's claim, one after the other (0.16 µs a parse on Node 20).
 */
export function timeOf(timestamp: string): number {
  if (timestamp !== lastTimestamp) {
    lastTime = Date.parse(timestamp);
    lastTimestamp = timestamp;
  }
  return lastTime;
}

function isTimestamp(value: string): boolean {
  return !Number.isNaN(parseTimestamp(value));
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** What makes `value` not an envelope (the rules of `envelopeSchema`), or null when it is one. */
export function envelopeProblem(value: unknown): string | null {
  if (!isObject(value)) return "expected a JSON object";
  if (typeof value.event !== "string" || value.event === "") return "event: expected a non-empty string";
  if (typeof value.id !== "string" || value.id === "") return "id: expected a non-empty string";
  if (typeof value.timestamp !== "string" || !isTimestamp(value.timestamp)) {
    return "timestamp: expected an ISO-8601 timestamp with a time zone";
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

/** One reason a payload fails its event type's schema: where, and what was expected. */
export interface EventDataIssue {
  /** The field's path inside `data`, dotted (`user.email`, `client.redirectUris.0`); "" for `data` itself. */
  path: string;
  /** What was expected there (`required`, `expected string, received number`); never the value itself. */
  message: string;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "array" : typeof value;
}

/**
 * zod/mini ships no messages (every issue reads "Invalid input"), so the receiver words its own, per
 * parse: no global zod configuration is touched. Only types and expectations, never the received values,
 * which belong to the payload.
 */
function issueMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? "required"
        : `expected ${issue.expected}, received ${kindOf(issue.input)}`;
    case "too_small":
      return `expected at least ${issue.minimum} ${issue.origin === "string" ? "characters" : "items"}`;
    default:
      return issue.message ?? `invalid (${issue.code})`;
  }
}

const WITH_MESSAGES = { error: issueMessage } as const;

function toIssues(error: z.core.$ZodError): EventDataIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
}

function describeIssues(issues: EventDataIssue[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${issue.path || "(root)"}: ${issue.message}`)
    .join("; ");
}

/**
 * Checks `data` against the catalog schema of `type`, the rules a receiver applies: `[]` when it is valid,
 * else each failing field with what was expected there. For editors, tests and stored payloads.
 */
export function eventDataIssues(type: EventType, data: unknown): EventDataIssue[] {
  const schema = catalog[type].data;
  // Parsed again, with the messages, only when it fails: passing an error map costs 2.7× a plain
  // safeParse on a valid user.created (1975 vs 720 ns on Node 20, bench/harness.mjs `compare`): the hot path stays plain.
  return schema.safeParse(data).success ? [] : wordedIssues(type, data);
}

/** The issues of `data`, which is known to fail its schema, worded (see `issueMessage`). */
function wordedIssues(type: EventType, data: unknown): EventDataIssue[] {
  return toIssues(catalog[type].data.safeParse(data, WITH_MESSAGES).error!);
}

/**
 * Event types parsed before in this process. zod compiles an object schema's fast path on its first parse
 * (`new Function`): worth it from the second event of a type on, not for the one event a cold serverless
 * instance may handle — the first parse of each type skips it (~3.5 ms of a cold start's first user.created,
 * bench/cold-start.bench.mjs).
 */
const parsedBefore = new Set<EventType>();
const JITLESS = { jitless: true } as const;

function parseData(type: EventType, data: unknown) {
  if (parsedBefore.has(type)) return catalog[type].data.safeParse(data);
  parsedBefore.add(type);
  return catalog[type].data.safeParse(data, JITLESS);
}

/**
 * Parses a body whose signature has already been verified: UTF-8 → JSON → envelope → event age →
 * the event type's `data` schema.
 */
export function parseEvent(body: Bytes, options: ResolvedParseOptions = DEFAULT_PARSE_OPTIONS): WebhookEvent {
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

  const now = options.now();
  const at = timeOf(event.timestamp); // Its form was checked with the envelope.
  if (!(now - at <= options.maxEventAge)) {
    throw new WebhookError("event_too_old", "The event is older than maxEventAge; it may be a replay.");
  }
  if (at - now > options.maxFutureSkew) {
    throw new WebhookError("event_in_future", "The event timestamp is too far in the future; check clocks.");
  }

  if (!isEventType(event.event)) return event as UnknownEvent;
  const data = parseData(event.event, event.data);
  if (data.success) {
    event.data = data.data;
  } else if (options.invalidData !== "accept") {
    throw new WebhookError(
      "invalid_event_data",
      `The data of ${event.event} does not match its schema (${describeIssues(wordedIssues(event.event, event.data))}).`,
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
  options?: ParseOptions,
): WebhookEvent {
  const list = secretsOption("constructEvent", secrets);
  const resolved = resolveParseOptions("constructEvent", options);
  const body = toBytes(payload);
  if (body === null) {
    throw new WebhookError(
      "raw_body_required",
      "constructEvent needs the raw request body (a string or live bytes), not a parsed object or a " +
        "detached buffer: the signature " +
        "covers the exact bytes. Read it with `await request.text()`, `express.raw({ type: 'application/json' })` " +
        "or by disabling your framework's JSON body parser for this route.",
    );
  }
  try {
    const failure = signatureFailure(body, signature, list);
    if (failure !== null) throw failure;
    return parseEvent(body, resolved);
  } catch (error) {
    // Only a WebhookError leaves: an injected clock that throws is the SDK's `internal_error`, not a TypeError.
    throw asWebhookError(error);
  }
}

const STORED: ResolvedParseOptions = Object.freeze({
  ...DEFAULT_PARSE_OPTIONS,
  maxEventAge: Number.MAX_SAFE_INTEGER,
  maxFutureSkew: Number.MAX_SAFE_INTEGER,
});

/**
 * Parses a body that was verified when it arrived and stored since (an event log, a queue job): the
 * envelope and `data` rules of `constructEvent`, without its signature and age checks, which were made
 * on arrival. Throws `WebhookError`. Never pass it a body that did not pass `constructEvent` or a receiver.
 */
export function parseStoredEvent(payload: Payload): WebhookEvent {
  const body = toBytes(payload);
  if (body === null)
    throw new WebhookError("raw_body_required", "parseStoredEvent needs the stored raw body.");
  return parseEvent(body, STORED);
}
