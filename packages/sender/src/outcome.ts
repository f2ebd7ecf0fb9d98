// What one attempt came to, before it becomes a delivery record: an answer, or why there was none.
import { BlockedAddress } from "./address-guard";
import type { DeliveryErrorCode, DeliveryRecord } from "./store";
import { AttemptTimeout, type HttpAnswer } from "./transport";

export type Outcome = Pick<
  DeliveryRecord,
  "statusCode" | "responseBody" | "errorCode" | "error" | "durationMs"
>;

export function failure(errorCode: DeliveryErrorCode, error: string, durationMs: number): Outcome {
  return { statusCode: null, responseBody: null, errorCode, error: `${errorCode}: ${error}`, durationMs };
}

export function answered({ status, statusText, location, body }: HttpAnswer, durationMs: number): Outcome {
  if (status >= 200 && status < 300) {
    return { statusCode: status, responseBody: body, errorCode: null, error: null, durationMs };
  }
  const detail =
    status >= 300 && status < 400
      ? `redirect not followed${location ? ` (location: ${location})` : ""}`
      : statusText || "not a 2xx response";
  return {
    statusCode: status,
    responseBody: body,
    errorCode: "http_status",
    error: `http_status: ${status} ${detail}`,
    durationMs,
  };
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error;
  const code = (cause as { code?: unknown } | null)?.code;
  const message = (cause as { message?: unknown } | null)?.message || (error as Error | null)?.message;
  const text = typeof message === "string" && message.length > 0 ? message : String(error);
  return typeof code === "string" && !text.includes(code) ? `${code} ${text}` : text;
}

/** The outcome of an attempt that got no HTTP answer. */
export function failed(error: unknown, timeoutMs: number, durationMs: number): Outcome {
  if (error instanceof BlockedAddress) return failure("blocked_address", error.message, durationMs);
  if (error instanceof AttemptTimeout) {
    return failure("timeout", `no complete response within ${timeoutMs} ms`, durationMs);
  }
  return failure("network_error", describeNetworkError(error), durationMs);
}
