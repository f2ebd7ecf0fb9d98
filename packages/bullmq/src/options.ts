// Option checks shared by bullmqQueue and createWorker: a clear `invalid_configuration` at start-up.
import { WebhookError } from "@optare/webhooks";
import type { ConnectionOptions } from "bullmq";

export const DEFAULT_QUEUE_NAME = "optare-webhooks";

export function configError(where: string, message: string): WebhookError {
  return new WebhookError("invalid_configuration", `${where}: ${message}`);
}

/** A positive integer option (ms, counts), or its default. */
export function positiveInteger(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  { min = 1 }: { min?: number } = {},
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw configError(where, `${name} must be an integer ≥ ${min}; got ${String(value)}.`);
  }
  return value;
}

/** BullMQ refuses queue names with ":" (its key separator). */
export function queueName(where: string, value: unknown): string {
  if (value === undefined) return DEFAULT_QUEUE_NAME;
  if (typeof value !== "string" || value === "" || value.includes(":")) {
    throw configError(where, `name must be a non-empty string without ":"; got ${JSON.stringify(value)}.`);
  }
  return value;
}

/** Connection options of our own making (not a client instance): a plain object. */
export function isPlainOptions(connection: ConnectionOptions): connection is Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(connection);
  return prototype === Object.prototype || prototype === null;
}
