// Failures are loud by default: one line per failed request on stderr, with the cause's stack for 5xx.
import type { WebhookError } from "./errors";

/**
 * Where the receiver reports failures and warnings: pino's (and bunyan's) `(fields, message)` signature,
 * so `logger: pino()` works as is; `console` works too. `logger: false` silences the receiver.
 */
export interface Logger {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** What a failed request logs: the fields of its line, plus the error (with its `cause`) as `err`. */
export type FailureFields = {
  status: number;
  code: string;
  eventId?: string;
  eventType?: string;
  durationMs: number;
  err: WebhookError;
};

const PREFIX = "[optare-webhooks]";

function describe(fields: Record<string, unknown>): string {
  let line = "";
  for (const key of ["status", "code", "eventType", "eventId", "durationMs"]) {
    const value = fields[key];
    if (value !== undefined) line += ` ${key}=${value}`;
  }
  return line;
}

/**
 * The stacks of what a 5xx error wraps (the handler's throw, the store's failure), and of their own
 * causes: `fetch failed` says why only one level down (`ECONNREFUSED`). At most 4 levels.
 */
function stackOf(error: WebhookError): string {
  let text = "";
  let cause: unknown = error.cause;
  for (let depth = 0; cause !== undefined && cause !== null && depth < 4; depth++) {
    text += `\n  caused by: ${cause instanceof Error ? (cause.stack ?? String(cause)) : String(cause)}`;
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return text;
}

/**
 * The default logger: `[optare-webhooks] <message> status=500 code=handler_failed eventType=… eventId=…
 * durationMs=…` on stderr, one line per failed request (4xx as warnings), followed for 5xx by the stack
 * of the error that caused it.
 */
export const consoleLogger: Logger = {
  error(fields, message) {
    const err = fields.err as WebhookError | undefined;
    console.error(`${PREFIX} ${message}${describe(fields)}${err ? stackOf(err) : ""}`);
  },
  warn(fields, message) {
    console.warn(`${PREFIX} ${message}${describe(fields)}`);
  },
};

/** The logger an option asks for: the default on `undefined`, none on `false`. */
export function resolveLogger(logger: Logger | false | undefined): Logger | undefined {
  if (logger === false) return undefined;
  if (logger === undefined) return consoleLogger;
  return logger;
}
