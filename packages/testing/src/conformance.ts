import { randomBytes } from "node:crypto";
import { EVENT_TYPES, sign } from "@optare/webhooks";
import { createSender, type DeliveryRecord, type Sender } from "@optare/webhooks-sender";
import { createEvent, fixtures } from "./fixtures";
import { signEvent } from "./signing";

export interface ConformanceOptions {
  /** The receiver's endpoint, e.g. `http://localhost:3000/webhooks/optare`. https:, or http: on loopback. */
  url: string;
  /** The secret the receiver is configured with. */
  secret: string;
  /** The HTTP client. Default the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Per-request timeout in ms. Default 30,000 (the Optare sender's). */
  timeoutMs?: number;
  /** Called after each check, for progress output. */
  onCheck?: (check: ConformanceCheck) => void;
}

/** The outcome of one check. */
export interface ConformanceCheck {
  name: string;
  passed: boolean;
  /** What the receiver should answer: `2xx` or a status code. */
  expected: string;
  /** What it answered: a status code, or the network error. */
  actual: string;
  /** What was sent and the start of the response body. */
  detail: string;
}

export interface ConformanceReport {
  url: string;
  /** True when every check passed. */
  passed: boolean;
  checks: ConformanceCheck[];
}

/** An event type outside the catalog, which receivers must acknowledge (SPEC §2). */
export const UNKNOWN_EVENT_TYPE = "optare.conformance.unknown_event";

const ORGANIZATION = { id: "org_conformance", name: "Optare conformance kit" };
const DAY = 24 * 60 * 60 * 1000;
const MAX_BODY_BYTES = 1024 * 1024;

interface Answer {
  status: number | null;
  body: string;
  error: string | null;
}

function fromRecord(record: DeliveryRecord | undefined): Answer {
  if (record === undefined) return { status: null, body: "", error: "the sender made no delivery" };
  return {
    status: record.statusCode,
    body: record.responseBody ?? "",
    error: record.statusCode === null ? record.error : null,
  };
}

function matches(expected: string, status: number | null): boolean {
  if (status === null) return false;
  return expected === "2xx" ? status >= 200 && status < 300 : String(status) === expected;
}

function describe(answer: Answer): string {
  return answer.status === null ? (answer.error ?? "no response") : String(answer.status);
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 160 ? `${flat.slice(0, 160)}…` : flat;
}

/**
 * Checks a receiver against the Optare webhook contract (SPEC §1–§3): every event type delivered by
 * the reference sender is accepted; bad, missing or foreign signatures, stale events, malformed JSON
 * and oversize bodies are refused with the right 4xx; duplicates and unknown event types are
 * acknowledged. Each check uses a fresh event id, so the receiver's deduplication cannot hide a
 * failure. Resolves with a report; never throws for a failing receiver.
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const { url, secret } = options;
  if (typeof secret !== "string" || secret.length === 0) {
    throw new TypeError("runConformance: secret must be the receiver's non-empty secret");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const sender: Sender = createSender({
    allowInsecure: true,
    maxAttempts: 1,
    concurrency: 1,
    fetch: fetchImpl,
    timeoutMs,
  });
  const checks: ConformanceCheck[] = [];

  function record(name: string, expected: string, answer: Answer, sent: string): void {
    const response = answer.body ? ` Response: ${excerpt(answer.body)}` : "";
    const check = {
      name,
      passed: matches(expected, answer.status),
      expected,
      actual: describe(answer),
      detail: `${sent}.${response}`,
    };
    checks.push(check);
    options.onCheck?.(check);
  }

  async function post(body: string, headers: Record<string, string>): Promise<Answer> {
    try {
      const response = await fetchImpl(url, {
        method: "POST",
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
      return { status: response.status, body: await response.text(), error: null };
    } catch (error) {
      const cause = (error as { cause?: { message?: string } }).cause?.message;
      return { status: null, body: "", error: cause ?? (error as Error).message ?? String(error) };
    }
  }

  /** A fresh, validly signed user.created delivery, for the checks that then spoil one part of it. */
  function freshDelivery() {
    const event = createEvent("user.created");
    return { event, ...signEvent(event, secret) };
  }

  try {
    await sender.createWebhook(ORGANIZATION.id, url, [...EVENT_TYPES, UNKNOWN_EVENT_TYPE], { secret });

    for (const type of EVENT_TYPES) {
      const { deliveries } = await sender.emit(type, fixtures[type], ORGANIZATION);
      record(`accepts ${type}`, "2xx", fromRecord(deliveries[0]), `Delivered a valid ${type} event`);
    }

    const unknown = await sender.emit(
      UNKNOWN_EVENT_TYPE,
      { note: "an event type this SDK does not know" },
      ORGANIZATION,
    );
    record(
      "accepts an unknown event type",
      "2xx",
      fromRecord(unknown.deliveries[0]),
      `Delivered a validly signed ${UNKNOWN_EVENT_TYPE} event`,
    );

    const duplicate = { id: `evt_dup_${randomBytes(8).toString("hex")}`, timestamp: new Date() };
    const first = await sender.emit("user.created", fixtures["user.created"], ORGANIZATION, duplicate);
    const second = await sender.emit("user.created", fixtures["user.created"], ORGANIZATION, duplicate);
    const firstAnswer = fromRecord(first.deliveries[0]);
    record(
      "accepts a duplicate delivery",
      "2xx",
      matches("2xx", firstAnswer.status) ? fromRecord(second.deliveries[0]) : firstAnswer,
      `Delivered the same event (${duplicate.id}) twice, byte for byte; the first answer was ${describe(firstAnswer)}`,
    );

    const tampered = freshDelivery();
    const tamperedBody = JSON.stringify({
      ...tampered.event,
      data: { ...tampered.event.data, tampered: true },
    });
    record(
      "rejects a tampered body",
      "401",
      await post(tamperedBody, tampered.headers),
      "Added a field to a signed body and kept its signature",
    );

    const foreign = freshDelivery();
    const otherSecret = randomBytes(32).toString("hex");
    record(
      "rejects a signature made with another secret",
      "401",
      await post(foreign.body, { ...foreign.headers, "x-optare-signature": sign(foreign.body, otherSecret) }),
      "Signed a valid body with a different secret",
    );

    const unsigned = freshDelivery();
    record(
      "rejects a missing signature",
      "401",
      await post(unsigned.body, { "content-type": "application/json" }),
      "Sent a valid body without X-Optare-Signature",
    );

    const long = freshDelivery();
    const valid = long.headers["x-optare-signature"];
    record(
      "rejects a signature with extra characters",
      "401",
      await post(long.body, { ...long.headers, "x-optare-signature": `${valid}00` }),
      "Sent the correct signature followed by two more hex digits (66 characters)",
    );

    const short = freshDelivery();
    record(
      "rejects a truncated signature",
      "401",
      await post(short.body, {
        ...short.headers,
        "x-optare-signature": short.headers["x-optare-signature"].slice(0, 62),
      }),
      "Sent the first 62 hex digits of the correct signature",
    );

    const nonHex = freshDelivery();
    record(
      "rejects a non-hex signature",
      "401",
      await post(nonHex.body, {
        ...nonHex.headers,
        "x-optare-signature": `zz${nonHex.headers["x-optare-signature"].slice(2)}`,
      }),
      "Sent 64 characters that are not all hex digits",
    );

    const stale = await sender.emit("user.created", fixtures["user.created"], ORGANIZATION, {
      timestamp: new Date(Date.now() - DAY - 60 * 60 * 1000),
    });
    record(
      "rejects a stale timestamp",
      "401",
      fromRecord(stale.deliveries[0]),
      "Delivered a validly signed event timestamped 25 hours ago",
    );

    const malformed = `{"event":"user.created","id":"evt_malformed_${randomBytes(8).toString("hex")}","data":{`;
    record(
      "rejects malformed JSON",
      "400",
      await post(malformed, {
        "content-type": "application/json",
        "x-optare-signature": sign(malformed, secret),
      }),
      "Sent a validly signed body that is not JSON",
    );

    const oversize = await sender.emit(
      "user.created",
      { ...fixtures["user.created"], padding: "x".repeat(MAX_BODY_BYTES) },
      ORGANIZATION,
    );
    record(
      "rejects an oversize body",
      "413",
      fromRecord(oversize.deliveries[0]),
      `Delivered a validly signed event of ${oversize.body.length} bytes (limit ${MAX_BODY_BYTES})`,
    );
  } finally {
    await sender.close();
  }

  return { url, passed: checks.every((check) => check.passed), checks };
}
