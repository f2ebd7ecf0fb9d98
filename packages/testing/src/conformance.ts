// runConformance: checks a running receiver against the Optare webhook contract (SPEC §10), one §3 row
// at a time, and reports which rows it breaks. The checks live in conformance-checks.ts (black box, any
// receiver) and cooperative-checks.ts (a receiver in this process that installed a controller).
import { randomBytes } from "node:crypto";
import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_EVENT_AGE,
  DEFAULT_MAX_FUTURE_SKEW,
  EVENT_TYPES,
} from "@optare/webhooks";
import { createSender, type Sender } from "@optare/webhooks-sender";
import { blackBoxChecks, UNKNOWN_EVENT_TYPE } from "./conformance-checks";
import { type Answer, answerOf, send } from "./conformance-http";
import type { CheckSpec, Crafted, Kit, KitSettings, Outcome } from "./conformance-kit";
import { type CooperativeController, cooperativeStateOf } from "./cooperative";
import { cooperativeChecks } from "./cooperative-checks";
import { errorBodyChecks } from "./error-body-checks";
import { createEvent, fixtures } from "./fixtures";
import type { Row } from "./rows";
import { signEvent } from "./signing";

export { UNKNOWN_EVENT_TYPE };

/** The per-request timeout when none is given. */
export const DEFAULT_CONFORMANCE_TIMEOUT_MS = 10_000;

export interface ConformanceOptions {
  /** The receiver's endpoint, e.g. `http://localhost:3000/webhooks/optare`. https:, or http: on loopback. */
  url: string;
  /** The secret the receiver is configured with. */
  secret: string;
  /** The HTTP client. Default the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /** Per-request timeout in ms. Default 10,000. */
  timeoutMs?: number;
  /** Called after each check, for progress output. */
  onCheck?: (check: ConformanceCheck, progress: { index: number; total: number }) => void;
  /**
   * Turns on the cooperative checks (handler failure and retry, 409 in flight, the ack deadline): a
   * controller from `cooperate(webhooks)`, installed by your test on the receiver serving `url` in this
   * same process.
   */
  cooperative?: CooperativeController;
  /** The receiver's body limit, in bytes. Default the core's `DEFAULT_MAX_BODY_BYTES` (1 MiB). */
  maxBodyBytes?: number;
  /** The receiver's `maxEventAge`, in ms. Default the core's `DEFAULT_MAX_EVENT_AGE` (24 h). */
  maxEventAge?: number;
  /** The receiver's `maxFutureSkew`, in ms. Default the core's `DEFAULT_MAX_FUTURE_SKEW` (5 min). */
  maxFutureSkew?: number;
  /** The receiver's `ackTimeoutMs` (cooperative checks wait for it). Default `DEFAULT_ACK_TIMEOUT_MS` (25 s). */
  ackTimeoutMs?: number;
  /** `"accept"` when the receiver is configured to accept invalid data unvalidated. Default `"reject"`. */
  invalidData?: "reject" | "accept";
  /** Rows (`ROWS.method`, …) not to check, e.g. for a route that also serves GET on purpose. */
  skip?: readonly Row[];
}

/** The outcome of one check. */
export interface ConformanceCheck {
  name: string;
  /** The row of the receiver decision table (SPEC §3) this check enforces. */
  row: Row;
  passed: boolean;
  /** What the receiver should answer, e.g. `2xx`, `401`, `405 + Allow: POST`. */
  expected: string;
  /** What it answered: a status code, or the network error. */
  actual: string;
  /** What was sent and the start of the response body. */
  detail: string;
}

/** Why the kit stopped after its first request, and what to do about it. */
export interface ConformanceStop {
  /** `unreachable`: no answer; `secret`: a validly signed delivery got 401; `not_found`: 404; `redirect`: 3xx. */
  reason: "unreachable" | "secret" | "not_found" | "redirect";
  message: string;
}

export interface ConformanceReport {
  url: string;
  /** True when every check passed. */
  passed: boolean;
  checks: ConformanceCheck[];
  /** Whether the cooperative checks ran. */
  cooperative: boolean;
  /** Set when the first request showed the receiver cannot be checked (not running, another secret…). */
  stopped?: ConformanceStop;
}

const ORGANIZATION = { id: "org_conformance", name: "Optare conformance kit" };

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(typeof value === "number" && value > 0 && Number.isFinite(value))) {
    throw new TypeError(
      `runConformance: ${name} must be a positive number of ${name === "maxBodyBytes" ? "bytes" : "ms"}.`,
    );
  }
  return value;
}

function settingsOf(options: ConformanceOptions): KitSettings {
  return {
    timeoutMs: positive("timeoutMs", options.timeoutMs, DEFAULT_CONFORMANCE_TIMEOUT_MS),
    maxBodyBytes: positive("maxBodyBytes", options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES),
    maxEventAge: positive("maxEventAge", options.maxEventAge, DEFAULT_MAX_EVENT_AGE),
    maxFutureSkew:
      options.maxFutureSkew === 0
        ? 0
        : positive("maxFutureSkew", options.maxFutureSkew, DEFAULT_MAX_FUTURE_SKEW),
    ackTimeoutMs: positive("ackTimeoutMs", options.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS),
    invalidData: options.invalidData === "accept" ? "accept" : "reject",
  };
}

/** Why the answer to the first, validly signed delivery means no other check can tell anything. */
function stopFor(url: string, answer: Answer, timeoutMs: number): ConformanceStop | undefined {
  if (answer.status === null) {
    const slow =
      answer.failure?.kind === "timeout"
        ? ` (if its first request is slow, raise the timeout above ${timeoutMs} ms)`
        : "";
    return {
      reason: "unreachable",
      message: `No answer from ${url}: ${answer.failure?.message ?? "no response"}. Is the app running at ${new URL(url).origin}?${slow}`,
    };
  }
  if (answer.status === 401) {
    return {
      reason: "secret",
      message:
        "The receiver answered 401 to a validly signed delivery: it is most likely configured with another secret than the one the kit was given.",
    };
  }
  if (answer.status === 404)
    return {
      reason: "not_found",
      message: `Nothing receives webhooks at ${url} (404): check the URL's path.`,
    };
  if (answer.status >= 300 && answer.status < 400) {
    return {
      reason: "redirect",
      message: `The receiver redirects (${answer.status}); Optare does not follow redirects, so give the kit the final URL.`,
    };
  }
  return undefined;
}

/**
 * Checks a receiver against the Optare webhook contract: every observable row of SPEC §3, black box, and
 * with `cooperative` the rows only the receiver's handlers can show. Every check names the row it
 * enforces and uses fresh event ids. Resolves with a report; never throws for a failing receiver. Stops
 * after the first request when the receiver does not answer, or refuses a validly signed delivery with 401.
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  const { url, secret } = options;
  if (typeof secret !== "string" || secret.length === 0) {
    throw new TypeError("runConformance: secret must be the receiver's non-empty secret");
  }
  const settings = settingsOf(options);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const cooperation = options.cooperative === undefined ? undefined : cooperativeStateOf(options.cooperative);
  const sender: Sender = createSender({
    allowInsecure: true,
    maxAttempts: 1,
    concurrency: 1,
    fetch: fetchImpl,
    timeoutMs: settings.timeoutMs,
  });
  const canary = `canary_${randomBytes(8).toString("hex")}`;
  const run = randomBytes(4).toString("hex");
  let counter = 0;
  let current = "";

  const kit: Kit = {
    url,
    secret,
    settings,
    canary,
    cooperation,
    accepted: [],
    errorAnswers: [],
    shared: {},
    newId(label, plan) {
      const id = `evt_conformance_${label}_${run}${(counter++).toString(36)}`;
      cooperation?.watch(id, plan);
      return id;
    },
    craft({ id = kit.newId("crafted"), timestamp = new Date(), data } = {}): Crafted {
      const event = createEvent("user.created", {
        id,
        timestamp,
        data: (data ?? { user: { ...fixtures["user.created"].user, name: canary } }) as never,
        organization: ORGANIZATION,
      }) as unknown as Crafted["event"];
      const { body, headers } = signEvent(event, secret);
      return { id, event, body, signature: headers["x-optare-signature"], headers: { ...headers } };
    },
    async request(outgoing, sentBody, timeoutMs = settings.timeoutMs) {
      const answer = await send(fetchImpl, url, outgoing, timeoutMs);
      if (answer.status !== null && answer.status >= 400)
        kit.errorAnswers.push({ check: current, answer, sentBody });
      return answer;
    },
    post(body, headers, timeoutMs) {
      return kit.request(
        { method: "POST", headers: { "content-type": "application/json", ...headers }, body },
        body,
        timeoutMs,
      );
    },
    async deliver(type, data, { id, timestamp }) {
      const result = await sender.emit(type, data, ORGANIZATION, { id, timestamp });
      const answer = answerOf(result.deliveries[0]);
      if (answer.status !== null && answer.status >= 400)
        kit.errorAnswers.push({ check: current, answer, sentBody: result.body });
      return answer;
    },
  };

  const skip = new Set<Row>(options.skip ?? []);
  const specs: CheckSpec[] = [
    ...blackBoxChecks(kit),
    ...(cooperation ? cooperativeChecks() : []),
    ...errorBodyChecks(),
  ].filter((spec) => !skip.has(spec.row));
  const checks: ConformanceCheck[] = [];
  let stopped: ConformanceStop | undefined;

  try {
    await sender.createWebhook(ORGANIZATION.id, url, [...EVENT_TYPES, UNKNOWN_EVENT_TYPE], { secret });
    for (const [index, spec] of specs.entries()) {
      current = spec.name;
      let outcome: Outcome;
      try {
        outcome = await spec.run(kit);
      } catch (error) {
        outcome = {
          passed: false,
          actual: "kit error",
          detail: `The check itself failed: ${(error as Error).stack ?? error}`,
        };
      }
      const check: ConformanceCheck = {
        name: spec.name,
        row: spec.row,
        passed: outcome.passed,
        expected: spec.expected,
        actual: outcome.actual,
        detail: outcome.detail,
      };
      checks.push(check);
      options.onCheck?.(check, { index: index + 1, total: specs.length });
      if (index === 0 && outcome.answer !== undefined && !outcome.passed) {
        stopped = stopFor(url, outcome.answer, settings.timeoutMs);
        if (stopped) break;
      }
    }
  } finally {
    cooperation?.reset();
    await sender.close();
  }

  return {
    url,
    passed: stopped === undefined && checks.every((check) => check.passed),
    checks,
    cooperative: cooperation !== undefined,
    ...(stopped ? { stopped } : {}),
  };
}
