// Options are checked once, where they are given, with an error that names the option and says what it
// must be: a NaN from `Number(process.env.UNSET)` or a `null` store must never turn a protection off.
import { WebhookError } from "./errors";

export function configError(where: string, message: string): WebhookError {
  return new WebhookError("invalid_configuration", `${where}: ${message}`);
}

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value);
  if (typeof value === "function") return "a function";
  return String(value);
}

/**
 * `value` when it is an integer in `[min, max]`, `fallback` when it is `undefined`; anything else (NaN,
 * a string, a fraction, Infinity) is an `invalid_configuration` error.
 */
export function integerOption(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw configError(where, `${name} must be ${range} (milliseconds or bytes), got ${show(value)}.`);
  }
  return value;
}

export function functionOption<F>(where: string, name: string, value: unknown): F | undefined {
  if (value === undefined || typeof value === "function") return value as F | undefined;
  throw configError(where, `${name} must be a function, got ${show(value)}.`);
}

export function oneOfOption<T extends string>(
  where: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined || allowed.includes(value as T)) return value as T | undefined;
  throw configError(
    where,
    `${name} must be ${allowed.map((v) => `"${v}"`).join(" or ")}, got ${show(value)}.`,
  );
}

export function objectOption(where: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value === "object" && value !== null && !Array.isArray(value))
    return value as Record<string, unknown>;
  throw configError(where, `options must be an object, got ${show(value)}.`);
}

/**
 * The configured secrets as a list, or an error saying what is wrong with them: missing or empty (an
 * unset environment variable), not a string, or wrapped in whitespace (a newline from an env file would
 * make every signature mismatch).
 */
export function secretsOption(where: string, value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw configError(where, "secret is an empty list.");
  list.forEach((secret, index) => {
    const name = Array.isArray(value) ? `secret[${index}]` : "secret";
    if (secret === undefined || secret === null || secret === "") {
      throw configError(
        where,
        `${name} is ${secret === "" ? "empty" : String(secret)}. Pass the endpoint secret, e.g. ` +
          "process.env.OPTARE_WEBHOOK_SECRET, and check that the variable is set where the app runs.",
      );
    }
    if (typeof secret !== "string")
      throw configError(where, `${name} must be a string, got ${typeof secret}.`);
    if (secret.trim() !== secret) {
      throw configError(
        where,
        `${name} starts or ends with whitespace (a newline from an env file?). Optare signs with the ` +
          "secret exactly as shown, so no signature would match. Remove the whitespace.",
      );
    }
  });
  return list as string[];
}

const OPTARE_SECRET = /^[0-9a-f]{64}$/;

/** Why `secrets` do not look like Optare endpoint secrets (64 lowercase hex characters), or null. */
export function secretShapeWarning(secrets: readonly string[]): string | null {
  const odd = secrets.findIndex((secret) => !OPTARE_SECRET.test(secret));
  if (odd < 0) return null;
  return (
    `${secrets.length > 1 ? `secret[${odd}]` : "The secret"} is not 64 lowercase hex characters, the shape ` +
    "of Optare endpoint secrets. Check that it is the endpoint's signing secret, copied whole."
  );
}
