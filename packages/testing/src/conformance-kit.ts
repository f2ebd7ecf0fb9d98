// What every conformance check gets (the `Kit`) and gives back (an `Outcome`), and the verdict helpers
// they share. The checks themselves are in conformance-checks.ts (black box) and cooperative-checks.ts.

import { type Answer, describeAnswer, excerpt, type Outgoing } from "./conformance-http";
import type { CooperativeState, Plan } from "./cooperative-state";
import type { Row } from "./rows";

/** The receiver's limits the checks are built around: the core's defaults unless told otherwise. */
export interface KitSettings {
  timeoutMs: number;
  maxBodyBytes: number;
  maxEventAge: number;
  maxFutureSkew: number;
  ackTimeoutMs: number;
  invalidData: "reject" | "accept";
}

/** A valid event and the exact bytes signed for it. */
export interface Crafted {
  id: string;
  event: Record<string, unknown> & { id: string; data: Record<string, unknown> };
  body: string;
  signature: string;
  headers: Record<string, string>;
}

export interface Kit {
  readonly url: string;
  readonly secret: string;
  readonly settings: KitSettings;
  /** A random marker put into every payload the kit crafts, so an echo of it can be spotted. */
  readonly canary: string;
  readonly cooperation: CooperativeState | undefined;
  /** A fresh event id, watched by the cooperative controller (with `plan`) when there is one. */
  newId(label: string, plan?: Plan): string;
  /** A fresh user.created carrying the canary, serialised once and signed. */
  craft(options?: { id?: string; timestamp?: Date; data?: Record<string, unknown> }): Crafted;
  /** One request; error answers are kept for the error-body checks, with `sentBody` to look for echoes. */
  request(outgoing: Outgoing, sentBody: string, timeoutMs?: number): Promise<Answer>;
  /** A POST of `body` (Content-Type: application/json) with `headers`. */
  post(body: string, headers: Record<string, string>, timeoutMs?: number): Promise<Answer>;
  /** One delivery through the reference sender (exact §1 wire format). */
  deliver(
    type: string,
    data: Record<string, unknown>,
    options: { id: string; timestamp?: Date },
  ): Promise<Answer>;
  /** Event ids delivered once and accepted, with the check that delivered them. */
  readonly accepted: Array<{ id: string; check: string }>;
  /** Every 4xx/5xx answer so far, for the error-body checks. */
  readonly errorAnswers: Array<{ check: string; answer: Answer; sentBody: string }>;
  /** Ids one check leaves for a later one (the cooperative checks count their handler runs). */
  readonly shared: {
    duplicate?: Sent;
    conflict?: Sent;
    /** The delivery whose handler was made to throw once. */
    failing?: Crafted;
    /** The delivery whose handler was held past the ack deadline. */
    late?: Crafted;
    /** Whether the cooperative controller saw the receiver's handlers run. */
    wired?: boolean;
  };
}

/** An event delivered through the sender: the same id and timestamp give the same bytes again. */
export interface Sent {
  id: string;
  timestamp: Date;
}

export interface Outcome {
  passed: boolean;
  /** What the receiver answered. */
  actual: string;
  /** What was sent, and what came back. */
  detail: string;
  /** The answer the verdict is about, when there is one. */
  answer?: Answer;
}

export interface CheckSpec {
  name: string;
  row: Row;
  /** What a conforming receiver answers, e.g. `2xx`, `401`, `405 + Allow: POST`. */
  expected: string;
  run(kit: Kit): Promise<Outcome>;
}

/** A header requirement: its name, what it must satisfy, and how to say so. */
export interface HeaderRule {
  name: string;
  label: string;
  test: (value: string) => boolean;
}

export const ALLOW_POST: HeaderRule = {
  name: "allow",
  label: "Allow: POST",
  test: (value) => value.split(",").some((method) => method.trim().toUpperCase() === "POST"),
};

export const RETRY_AFTER: HeaderRule = {
  name: "retry-after",
  label: "Retry-After",
  test: (value) => value.trim() !== "",
};

/** Does `status` match `expected` ("2xx", "5xx" or a code)? */
export function statusMatches(expected: string, status: number | null): boolean {
  if (status === null) return false;
  const family = /^([1-5])xx$/.exec(expected);
  return family ? Math.floor(status / 100) === Number(family[1]) : String(status) === expected;
}

function responseNote(answer: Answer): string {
  return answer.body ? ` Response: ${excerpt(answer.body)}` : "";
}

/** The verdict on one answer: the status must match, and `header` (when given) be present and right. */
export function expectAnswer(status: string, answer: Answer, sent: string, header?: HeaderRule): Outcome {
  const actual = describeAnswer(answer);
  let passed = statusMatches(status, answer.status);
  let note = "";
  if (passed && header !== undefined) {
    const value = answer.headers[header.name];
    if (value === undefined || !header.test(value)) {
      passed = false;
      note =
        value === undefined
          ? ` No ${header.label} header.`
          : ` ${header.name}: ${value}, not ${header.label}.`;
    }
  }
  return {
    passed,
    actual: note ? `${actual} without ${header!.label}` : actual,
    detail: `${sent}.${note}${responseNote(answer)}`,
    answer,
  };
}

/** An outcome decided by the kit rather than by one status. */
export function verdict(passed: boolean, actual: string, detail: string): Outcome {
  return { passed, actual, detail };
}
