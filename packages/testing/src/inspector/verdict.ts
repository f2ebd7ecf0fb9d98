// What a captured request's signature says, in the receiver's terms: valid, or which mistake it shows.
import {
  DEFAULT_MAX_EVENT_AGE,
  DEFAULT_MAX_FUTURE_SKEW,
  SIGNATURE_HEADER,
  verifySignature,
} from "@optare/webhooks";

export type VerdictCode = "valid" | "missing" | "wrong_secret" | "reserialised" | "stale" | "future";

export interface Verdict {
  code: VerdictCode;
  /** Whether a receiver built with this SDK would accept it (401 otherwise). */
  valid: boolean;
  message: string;
}

const verdict = (code: VerdictCode, message: string): Verdict => ({ code, valid: code === "valid", message });

function timestampOf(body: Buffer): number {
  try {
    return Date.parse((JSON.parse(body.toString("utf8")) as { timestamp?: string }).timestamp ?? "");
  } catch {
    return Number.NaN;
  }
}

function reserialised(body: Buffer): string | null {
  try {
    return JSON.stringify(JSON.parse(body.toString("utf8")));
  } catch {
    return null;
  }
}

/** Checks `signature` (the header's value) over the exact `body` bytes with `secret`, then the event time. */
export function signatureVerdict(
  body: Buffer,
  signature: string | undefined,
  secret: string,
  now = Date.now(),
): Verdict {
  if (signature === undefined || signature === "") {
    return verdict("missing", `No ${SIGNATURE_HEADER} header: a receiver answers 401.`);
  }
  if (verifySignature(body, signature, secret)) {
    const at = timestampOf(body);
    if (at < now - DEFAULT_MAX_EVENT_AGE) {
      return verdict(
        "stale",
        "The signature matches, but the event time is over 24 h old: a receiver answers 401.",
      );
    }
    if (at > now + DEFAULT_MAX_FUTURE_SKEW) {
      return verdict(
        "future",
        "The signature matches, but the event time is over 5 min ahead: a receiver answers 401.",
      );
    }
    return verdict("valid", "The signature matches the exact body bytes.");
  }
  const again = reserialised(body);
  if (again !== null && again !== body.toString("utf8") && verifySignature(again, signature, secret)) {
    return verdict(
      "reserialised",
      "The signature was made over JSON.stringify(JSON.parse(body)), not the bytes sent: sign (and verify) the raw body.",
    );
  }
  return verdict(
    "wrong_secret",
    "The signature does not match this body with this secret: another secret, or a body altered after signing.",
  );
}
