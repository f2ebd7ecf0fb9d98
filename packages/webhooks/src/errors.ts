/**
 * Every failure the SDK reports is a `WebhookError` with a stable `code` and the HTTP `status`
 * a receiver should answer with. The table below is the single place where codes meet statuses.
 */
export const ERROR_STATUS = {
  /** The request method is not POST. */
  method_not_allowed: 405,
  /** The body is larger than the configured limit. */
  payload_too_large: 413,
  /** No `X-Optare-Signature` header. */
  signature_missing: 401,
  /** The signature is not 64 hexadecimal characters. */
  signature_malformed: 401,
  /** The signature does not match the body under any configured secret. */
  signature_mismatch: 401,
  /** The event timestamp is older than `maxEventAge`. */
  event_too_old: 401,
  /** The event timestamp is further in the future than the allowed clock skew. */
  event_in_future: 401,
  /** The body could not be read: the connection closed before it ended. */
  request_aborted: 400,
  /** The body did not arrive in full within the body-read deadline (a slow or stalled client). */
  request_timeout: 408,
  /** The body is not UTF-8 JSON. */
  invalid_json: 400,
  /** The body is JSON but not an Optare envelope `{ event, id, timestamp, data, organization }`. */
  invalid_envelope: 400,
  /** A known event whose `data` does not match its schema. */
  invalid_event_data: 422,
  /** The same event id arrived with a different body. */
  event_conflict: 422,
  /** The same event is being processed by another request right now. */
  event_in_progress: 409,
  /** A handler threw; the event was released so the sender's retry runs it again. */
  handler_failed: 500,
  /** Handlers were still running at the acknowledgement deadline; they keep running. */
  handler_timeout: 503,
  /** The idempotency store could not be reached (fail closed). */
  store_unavailable: 503,
  /** The queue that verified events are handed to could not be reached (fail closed). */
  queue_unavailable: 503,
  /** An unexpected failure inside the SDK itself. */
  internal_error: 500,
  /** The receiver is misconfigured (no secret, bad option). Never caused by a request. */
  invalid_configuration: 500,
  /**
   * The raw body is gone: a body parser consumed it, the `Request` was read (`await request.json()`)
   * before `handle`, or a parsed object was passed where the bytes are needed. A setup error.
   */
  raw_body_required: 500,
} as const satisfies Record<string, number>;

export type WebhookErrorCode = keyof typeof ERROR_STATUS;

const MARKER = Symbol.for("@optare/webhooks/error");

export class WebhookError extends Error {
  override readonly name = "WebhookError";
  readonly code: WebhookErrorCode;
  readonly status: number;
  readonly [MARKER] = true;

  constructor(code: WebhookErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = ERROR_STATUS[code];
  }

  /** Recognises a `WebhookError` even when it comes from another copy of this package. */
  static is(value: unknown): value is WebhookError {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

export const isWebhookError = WebhookError.is;

/** `error` itself when it is a `WebhookError`; anything else is an `internal_error` carrying it. */
export function asWebhookError(error: unknown): WebhookError {
  return WebhookError.is(error)
    ? error
    : new WebhookError("internal_error", "Unexpected error in the webhook receiver.", { cause: error });
}
