/** What a `SenderError` is about. */
export type SenderErrorCode =
  /** The endpoint URL does not parse, or uses a scheme other than http(s). */
  | "invalid_url"
  /** An `http:` URL while insecure URLs are not allowed, or an `http:` URL to a non-loopback host. */
  | "insecure_url"
  /** An argument or option of the wrong shape (empty events list, non-string secret, bad option…). */
  | "invalid_argument"
  /** No endpoint has this id. */
  | "webhook_not_found"
  /** The sender was closed. */
  | "sender_closed";

const MARKER = Symbol.for("@optare/webhooks-sender/error");

/** Thrown for misuse of the sender API. Delivery failures are never thrown: they are delivery records. */
export class SenderError extends Error {
  override readonly name = "SenderError";
  readonly code: SenderErrorCode;
  readonly [MARKER] = true;

  constructor(code: SenderErrorCode, message: string) {
    super(message);
    this.code = code;
  }

  /** Recognises a `SenderError` even when it comes from another copy of this package. */
  static is(value: unknown): value is SenderError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/** `value` when it is a non-empty string; throws `invalid_argument` naming it otherwise. */
export function checkString(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new SenderError("invalid_argument", `${name} must be a non-empty string.`);
  }
  return value;
}
