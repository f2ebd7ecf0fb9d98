// Field-level validation messages. zod/mini issues carry only a generic message, so each issue is
// described here from its `path`, `code` and expectation, and from the value actually found at `path`.
import { catalog, envelopeSchema, isEventType } from "@optare/webhooks";
import type { FieldError } from "./errors";

/** The parts of a zod issue this file reads (zod and zod/mini issues both have them). */
interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: unknown;
  values?: unknown[];
  format?: string;
  origin?: string;
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: boolean;
  keys?: string[];
}

interface Schema {
  safeParse(value: unknown): { success: true } | { success: false; error: { issues: readonly unknown[] } };
}

/** "user.email", "redirectUris[0]", or "(root)". */
export function formatPath(path: readonly PropertyKey[], prefix = ""): string {
  const text = path
    .map((key, index) => (typeof key === "number" ? `[${key}]` : `${index === 0 ? "" : "."}${String(key)}`))
    .join("");
  return prefix && text ? `${prefix}${text.startsWith("[") ? "" : "."}${text}` : prefix || text || "(root)";
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) value = (value as Record<PropertyKey, unknown> | null | undefined)?.[key];
  return value;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

function describe(issue: Issue, root: unknown): string {
  switch (issue.code) {
    case "invalid_type": {
      const found = valueAt(root, issue.path);
      const expected = String(issue.expected);
      return found === undefined ? `required (${expected})` : `expected ${expected}, got ${kindOf(found)}`;
    }
    case "invalid_value":
      return `expected one of ${(issue.values ?? []).map((value) => JSON.stringify(value)).join(", ")}`;
    case "invalid_format":
      return `expected the ${issue.format} format`;
    case "too_small":
      return `expected ${issue.origin === "string" ? "a length" : issue.origin} of at least ${issue.minimum}`;
    case "too_big":
      return `expected ${issue.origin === "string" ? "a length" : issue.origin} of at most ${issue.maximum}`;
    case "unrecognized_keys":
      return `unknown key(s): ${(issue.keys ?? []).join(", ")}`;
    case "invalid_union":
      return "matches none of the allowed shapes";
    default:
      // "custom" (a refinement) carries the message its schema wrote; anything else, zod's own.
      return issue.message;
  }
}

/** The field errors of `value` against `schema` (empty when it is valid); paths start with `prefix`. */
export function fieldErrors(schema: Schema, value: unknown, prefix = ""): FieldError[] {
  const result = schema.safeParse(value);
  if (result.success) return [];
  return (result.error.issues as Issue[]).map((issue) => ({
    path: formatPath(issue.path, prefix),
    message: describe(issue, value),
  }));
}

/** The field errors of a catalog event's `data`. */
export function dataErrors(type: string, data: unknown): FieldError[] {
  if (!isEventType(type))
    return [{ path: "event", message: `${type} is not one of the catalog's event types` }];
  return fieldErrors(catalog[type].data, data);
}

/** The field errors of a whole envelope: its own fields, then `data` against its event type (when known). */
export function envelopeErrors(envelope: unknown): { known: boolean; errors: FieldError[] } {
  const errors = fieldErrors(envelopeSchema, envelope);
  const { event, data } = (envelope ?? {}) as { event?: unknown; data?: unknown };
  const known = isEventType(event);
  if (known && errors.every((error) => !error.path.startsWith("data"))) {
    errors.push(...fieldErrors(catalog[event].data, data, "data"));
  }
  return { known, errors };
}
