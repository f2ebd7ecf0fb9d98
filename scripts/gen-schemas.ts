// Generates the language-neutral description of the webhooks from the catalog, into
// packages/webhooks/schemas/ (shipped in the package as `@optare/webhooks/schemas/*`):
// - JSON Schema 2020-12: the envelope, one schema per event type (envelope + its `data`), and one for any
//   event (`oneOf`, one branch per `event` value, plus the unknown event the receiver also accepts);
// - an OpenAPI 3.1 document whose `webhooks` are the 27 events, with the signature header and the answers
//   the receiver gives;
// - an AsyncAPI 3.0 document: one channel (your endpoint), one message and one operation per event.
// Every schema comes from zod's own `z.toJSONSchema()` on the catalog's schemas; the three formats share
// the same schema objects, only where their `$ref`s point differs. `pnpm gen:schemas` (and `pnpm gen`)
// rewrites the files; gen-schemas.test.ts fails when they are stale and checks them with ajv, Redocly
// and the AsyncAPI parser.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  catalog,
  ERROR_STATUS,
  EVENT_TYPES,
  type EventType,
  envelopeSchema,
  SIGNATURE_HEADER,
  type WebhookErrorCode,
} from "@optare/webhooks";
import { createEvent } from "@optare/webhooks-testing";
import { z } from "zod";
import { SHARED_OBJECTS } from "./gen-docs";

export const SCHEMAS_DIR = new URL("../packages/webhooks/schemas/", import.meta.url);
const PACKAGE = JSON.parse(
  readFileSync(new URL("../packages/webhooks/package.json", import.meta.url), "utf8"),
);
/** Where the published package serves the files, which makes every `$id` resolvable. */
export const BASE_URI = `https://unpkg.com/${PACKAGE.name}/schemas/`;

/**
 * The version of the documents (`info.version`): of the webhook contract they describe, not of the package,
 * so a release does not change them. Raise it when the contract changes.
 */
const CONTRACT_VERSION = "1.0.0";

/** A JSON Schema (or OpenAPI / AsyncAPI schema object): plain JSON. */
export type JsonSchema = { [key: string]: unknown };

// ---------------------------------------------------------------------------------------------------
// Names

const DIGITS = ["Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine"];

/** `user.created` → `UserCreated`, `api_key.revoked` → `ApiKeyRevoked`, `2fa.enabled` → `TwoFaEnabled`. */
function pascalName(type: EventType): string {
  const name = type
    .split(/[._]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
  // A leading digit is spelled out: most languages cannot start a type name with one.
  return name.replace(
    /^([0-9])(.?)/,
    (_all, digit: string, next: string) => DIGITS[Number(digit)]! + next.toUpperCase(),
  );
}

/** The names of an event type's schemas: the whole event, and its `data`. */
export const eventName = (type: EventType) => `${pascalName(type)}Event`;
export const dataName = (type: EventType) => `${pascalName(type)}Data`;
const operationId = (type: EventType) => pascalName(type).replace(/^./, (first) => first.toLowerCase());
/** `x-optare-signature` → `X-Optare-Signature`, as the documentation writes it. */
const SIGNATURE = SIGNATURE_HEADER.replace(
  /(^|-)([a-z])/g,
  (_all, dash: string, letter: string) => `${dash}${letter.toUpperCase()}`,
);

// ---------------------------------------------------------------------------------------------------
// Schemas, from the catalog through z.toJSONSchema()

/**
 * The envelope's timestamp rule as a pattern. The runtime checks its own pattern (event.ts `TIMESTAMP`:
 * a date, a time and a zone) and then that `Date.parse` reads it; ranges are spelled out here so that a
 * JSON Schema validator without JavaScript's Date agrees: months 01–12, days 01–31 in every month (as
 * ECMAScript's date-time format does), hours 00–23 or exactly 24:00, zones Z or ±hh:mm up to ±23:59.
 * `[0-9]` rather than `\d`, which is any Unicode digit in Python's `re`. Not `format: "date-time"`:
 * RFC 3339 requires the seconds and rejects 24:00 and 2025-02-30, all of which the receiver accepts.
 */
const DATE = "[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])";
const TIME =
  "(?:(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]{1,9})?)?|24:00(?::00(?:\\.0{1,9})?)?)";
const ZONE = "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])";
const TIMESTAMP_PATTERN = `^${DATE}[Tt]${TIME}${ZONE}$`;

const TIMESTAMP_DESCRIPTION =
  "When the event happened (not when it was delivered): an ISO-8601 date-time with a time zone, " +
  "`YYYY-MM-DDThh:mm[:ss[.fraction]]` then `Z` or `±hh:mm`, e.g. `2025-11-11T10:30:00Z`.";

const ENVELOPE_DESCRIPTION =
  "One Optare webhook delivery: the fields every event shares. `data` depends on `event`; objects are " +
  "open (fields Optare adds later are allowed and kept).";

/** The description of an event type, as the catalog gives it. */
function eventDescription(type: EventType): string {
  const { description, published } = catalog[type];
  return `${description}.${published ? "" : " Added by the SDK: not on Optare's published list."}`;
}

/** The annotations marking an event type's group and whether Optare's published list has it. */
function eventMarks(type: EventType): JsonSchema {
  return { "x-optare-group": catalog[type].group, "x-optare-published": catalog[type].published };
}

/** An example delivery of `type`, built from its fixture (`createEvent` with a fixed id and time). */
function exampleEvent(type: EventType): unknown {
  return JSON.parse(
    JSON.stringify(createEvent(type, { id: `evt_${operationId(type)}`, timestamp: "2025-11-11T10:30:00Z" })),
  );
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}

/**
 * Every named schema, its `$ref`s pointing through `ref(name)`: the envelope, the shared objects, each
 * event type's `data` (zod's conversion of the catalog) and each event type's full event (the envelope with
 * `event` fixed and `data` referenced), plus the unknown event.
 */
function namedSchemas(ref: (name: string) => string): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string; title?: string; description?: string }>();
  registry.add(envelopeSchema, { id: "Envelope", title: "Envelope", description: ENVELOPE_DESCRIPTION });
  for (const [name, schema] of Object.entries(SHARED_OBJECTS)) {
    registry.add(schema as unknown as z.ZodType, { id: name, title: name });
  }
  for (const type of EVENT_TYPES) {
    registry.add(catalog[type].data, {
      id: dataName(type),
      title: `${type} data`,
      description: `The \`data\` of \`${type}\`: ${eventDescription(type)}`,
    });
  }
  const { schemas } = z.toJSONSchema(registry, {
    target: "draft-2020-12",
    io: "input",
    unrepresentable: "throw",
    uri: ref,
    metadata: registry,
    override({ zodSchema, jsonSchema }) {
      // Open objects: zod writes `additionalProperties: {}`; say it plainly.
      if (isEmptyObject(jsonSchema.additionalProperties)) jsonSchema.additionalProperties = true;
      if (isEmptyObject(jsonSchema.properties)) delete jsonSchema.properties;
      // A refinement is invisible to the conversion: the timestamp rule is spelled out here.
      if (zodSchema === envelopeSchema.shape.timestamp) {
        Object.assign(jsonSchema, { description: TIMESTAMP_DESCRIPTION, pattern: TIMESTAMP_PATTERN });
      }
    },
  });
  const named: Record<string, JsonSchema> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    // Components, not documents: the document that holds them carries `$schema` and `$id`. The title
    // and description come first, where a reader looks.
    const { $schema: _dialect, $id: _id, title, description, ...component } = schema as JsonSchema;
    named[name] = { title, ...(description === undefined ? {} : { description }), ...component };
  }
  for (const type of EVENT_TYPES) {
    named[eventName(type)] = {
      title: type,
      description: eventDescription(type),
      ...eventMarks(type),
      type: "object",
      allOf: [{ $ref: ref("Envelope") }],
      properties: { event: { const: type }, data: { $ref: ref(dataName(type)) } },
      examples: [exampleEvent(type)],
    };
  }
  named.UnknownEvent = {
    title: "Unknown event",
    description:
      "An event type this version does not know (Optare added one): the receiver delivers it untyped, " +
      "never rejects it.",
    type: "object",
    allOf: [{ $ref: ref("Envelope") }],
    properties: { event: { not: { enum: EVENT_TYPES } } },
  };
  return named;
}

/** The names a schema refers to, directly or through the schemas it refers to. */
function referencedNames(root: unknown, named: Record<string, JsonSchema>, prefix: string): string[] {
  const found = new Set<string>();
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (typeof value !== "object" || value === null) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === "$ref" && typeof inner === "string" && inner.startsWith(prefix)) {
        const name = inner.slice(prefix.length);
        if (!(name in named)) throw new Error(`gen-schemas: dangling $ref ${inner}`);
        if (!found.has(name)) {
          found.add(name);
          visit(named[name]);
        }
      } else if (key !== "examples") {
        visit(inner);
      }
    }
  };
  visit(root);
  const order = Object.keys(named);
  return [...found].sort((a, b) => order.indexOf(a) - order.indexOf(b));
}

const DIALECT = "https://json-schema.org/draft/2020-12/schema";

/** A self-contained JSON Schema document: `root` with the named schemas it uses in `$defs`. */
function jsonSchemaDocument(file: string, root: JsonSchema, named: Record<string, JsonSchema>): JsonSchema {
  const defs = referencedNames(root, named, "#/$defs/");
  return {
    $schema: DIALECT,
    $id: BASE_URI + file,
    ...root,
    ...(defs.length > 0 ? { $defs: Object.fromEntries(defs.map((name) => [name, named[name]])) } : {}),
  };
}

/** The path of the JSON Schema of one event type, inside SCHEMAS_DIR. */
export const eventSchemaFile = (type: EventType) => `events/${type}.schema.json`;
export const ENVELOPE_FILE = "envelope.schema.json";
export const ANY_EVENT_FILE = "event.schema.json";
export const OPENAPI_FILE = "openapi.json";
export const ASYNCAPI_FILE = "asyncapi.json";

function jsonSchemaFiles(): Record<string, JsonSchema> {
  const named = namedSchemas((name) => `#/$defs/${name}`);
  const files: Record<string, JsonSchema> = {
    [ENVELOPE_FILE]: jsonSchemaDocument(ENVELOPE_FILE, named.Envelope!, named),
    [ANY_EVENT_FILE]: jsonSchemaDocument(
      ANY_EVENT_FILE,
      {
        title: "Optare webhook event",
        description:
          `Any Optare webhook delivery: one of the ${EVENT_TYPES.length} known event types, each with the ` +
          "`data` of its type (exactly one branch matches, chosen by `event`), or an event of a type this " +
          "version does not know, which the receiver accepts untyped.",
        oneOf: [
          ...EVENT_TYPES.map((type) => ({ $ref: `#/$defs/${eventName(type)}` })),
          { $ref: "#/$defs/UnknownEvent" },
        ],
      },
      named,
    ),
  };
  for (const type of EVENT_TYPES) {
    const file = eventSchemaFile(type);
    files[file] = jsonSchemaDocument(file, named[eventName(type)]!, named);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------
// The receiver's answers, from ERROR_STATUS (the one table of codes and statuses)

interface StatusNote {
  name: string;
  description: string;
  retryAfter?: boolean;
}

/** One line per HTTP status the receiver answers a POST with, besides 200. */
const STATUS_NOTES: Record<number, StatusNote> = {
  400: {
    name: "BadRequest",
    description: "The body is not an Optare event: not UTF-8 JSON, or not an envelope.",
  },
  401: {
    name: "Unauthorized",
    description:
      "Not authenticated: the signature is missing, malformed or wrong, or the event is too old or too far " +
      "in the future (a replay).",
  },
  408: { name: "RequestTimeout", description: "The body did not arrive in full in time." },
  409: {
    name: "InProgress",
    description: "The same event is being processed by another request right now; retry after `Retry-After`.",
    retryAfter: true,
  },
  413: {
    name: "PayloadTooLarge",
    description: "The body is larger than the receiver's limit (1 MiB by default).",
  },
  422: {
    name: "UnprocessableEvent",
    description:
      "A known event whose `data` does not match its schema, or an event id already received with a " +
      "different body.",
  },
  500: {
    name: "ServerError",
    description:
      "A handler failed (the event is released, so Optare's retry runs it again), or the receiver is misconfigured.",
  },
  503: {
    name: "Unavailable",
    description:
      "The idempotency store or queue is unreachable (fail closed), or handlers are still running at the " +
      "acknowledgement deadline (with `Retry-After`; the retry sees their outcome).",
    retryAfter: true,
  },
};

/** The codes of each status a POST can be answered with (405 is for other methods only). */
function errorCodesByStatus(): Map<number, WebhookErrorCode[]> {
  const byStatus = new Map<number, WebhookErrorCode[]>();
  for (const [code, status] of Object.entries(ERROR_STATUS) as [WebhookErrorCode, number][]) {
    if (status === 405) continue;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const status of byStatus.keys()) {
    if (!STATUS_NOTES[status])
      throw new Error(`gen-schemas: ERROR_STATUS has ${status}; describe it in STATUS_NOTES`);
  }
  for (const status of Object.keys(STATUS_NOTES)) {
    if (!byStatus.has(Number(status)))
      throw new Error(`gen-schemas: STATUS_NOTES describes ${status}, never answered`);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}

const SIGNATURE_DESCRIPTION =
  "Lowercase hex HMAC-SHA256 of the exact raw request body, keyed with the endpoint secret as text (the " +
  "UTF-8 bytes of the 64-character secret, not hex-decoded). Verify it over the bytes as received, before " +
  "parsing, with a constant-time comparison.";

const signatureSchema = { type: "string", pattern: "^[0-9a-f]{64}$" };

const RETRY_AFTER = {
  description: "Seconds to wait before retrying.",
  schema: { type: "integer", minimum: 1 },
};

/** The group names in catalog order. */
function groups(): string[] {
  return [...new Set(EVENT_TYPES.map((type) => catalog[type].group))];
}

function groupDescription(group: string): string {
  const types = EVENT_TYPES.filter((type) => catalog[type].group === group);
  return `${group} events: ${types.map((type) => `\`${type}\``).join(", ")}.`;
}

const INFO_DESCRIPTION =
  "The webhooks Optare (SSO) sends: one HTTPS `POST` per event to each endpoint subscribed to its type, " +
  `signed in the \`${SIGNATURE}\` header. Failed deliveries (any non-2xx answer, a timeout after 30 s, a ` +
  "network error) are retried 1 min, 5 min, 15 min and 1 h later with the same `id` and the same bytes: " +
  "deduplicate on `id`. Generated from the catalog of `@optare/webhooks`; the answers are those of its receiver.";

const LICENSE = { name: "MIT", identifier: "MIT" };

// ---------------------------------------------------------------------------------------------------
// OpenAPI 3.1 and AsyncAPI 3.0

const COMPONENT_SCHEMAS = "#/components/schemas/";
const componentRef = (name: string) => ({ $ref: COMPONENT_SCHEMAS + name });

/** The schemas every document about the HTTP exchange adds to the catalog's. */
function exchangeSchemas(): Record<string, JsonSchema> {
  return {
    Received: {
      title: "Received",
      description: "The answer to a delivery the receiver took.",
      type: "object",
      properties: {
        received: { const: true },
        duplicate: { const: true, description: "The event was already processed; handlers did not run." },
        queued: { const: true, description: "Queue mode: the event was queued for a worker." },
      },
      required: ["received"],
    },
    Error: {
      title: "Error",
      description: "Every error answer. It never echoes the secret, the expected signature or the payload.",
      type: "object",
      properties: {
        error: {
          type: "object",
          properties: {
            code: { type: "string", enum: Object.keys(ERROR_STATUS), description: "Stable error code." },
            message: { type: "string", description: "What went wrong, for a person." },
          },
          required: ["code", "message"],
        },
      },
      required: ["error"],
    },
    SignatureHeaders: {
      title: "Signature headers",
      type: "object",
      properties: { [SIGNATURE]: { ...signatureSchema, description: SIGNATURE_DESCRIPTION } },
      required: [SIGNATURE],
    },
  };
}

/** `document` with `components.schemas` holding exactly the schemas it refers to. */
function withSchemas(document: JsonSchema & { components: JsonSchema }): JsonSchema {
  const all = { ...namedSchemas((name) => COMPONENT_SCHEMAS + name), ...exchangeSchemas() };
  const used = referencedNames(document, all, COMPONENT_SCHEMAS);
  const schemas = Object.fromEntries(used.map((name) => [name, all[name]]));
  return { ...document, components: { schemas, ...document.components } };
}

function openApiDocument(): JsonSchema {
  const byStatus = errorCodesByStatus();
  const responses: Record<string, JsonSchema> = {
    Received: {
      description:
        "Received: processed, a duplicate of a processed event, an event of an unknown type, or queued. " +
        "Optare stops retrying.",
      content: { "application/json": { schema: componentRef("Received") } },
    },
  };
  for (const [status, codes] of byStatus) {
    const note = STATUS_NOTES[status]!;
    responses[note.name] = {
      description: `${note.description} Codes: ${codes.map((code) => `\`${code}\``).join(", ")}.`,
      ...(note.retryAfter ? { headers: { "Retry-After": RETRY_AFTER } } : {}),
      content: { "application/json": { schema: componentRef("Error") } },
    };
  }
  const answers = {
    "200": { $ref: "#/components/responses/Received" },
    ...Object.fromEntries(
      [...byStatus.keys()].map((status) => [
        String(status),
        { $ref: `#/components/responses/${STATUS_NOTES[status]!.name}` },
      ]),
    ),
  };
  const webhooks = Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: operationId(type),
          summary: catalog[type].description,
          description: `Optare sends \`${type}\`. ${eventDescription(type)}`,
          tags: [catalog[type].group],
          ...eventMarks(type),
          parameters: [{ $ref: "#/components/parameters/Signature" }],
          requestBody: {
            required: true,
            content: { "application/json": { schema: componentRef(eventName(type)) } },
          },
          responses: answers,
          // Authenticated by the signature header, which no OpenAPI security scheme describes.
          security: [],
        },
      },
    ]),
  );
  return withSchemas({
    openapi: "3.1.0",
    info: {
      title: "Optare webhooks",
      version: CONTRACT_VERSION,
      description: INFO_DESCRIPTION,
      license: LICENSE,
    },
    tags: groups().map((name) => ({ name, description: groupDescription(name) })),
    webhooks,
    components: {
      parameters: {
        Signature: {
          name: SIGNATURE,
          in: "header",
          required: true,
          description: SIGNATURE_DESCRIPTION,
          schema: signatureSchema,
          example: "e6d5c938050a5b23795883699f2a3a58ecef6b1a1e06b88e3c7d8a92fd748a78",
        },
      },
      responses,
    },
  });
}

function asyncApiDocument(): JsonSchema {
  const message = (type: EventType) => pascalName(type);
  const tag = (type: EventType) => ({ $ref: `#/components/tags/${catalog[type].group}` });
  return withSchemas({
    asyncapi: "3.0.0",
    info: {
      title: "Optare webhooks",
      version: CONTRACT_VERSION,
      description: INFO_DESCRIPTION,
      license: { name: LICENSE.name, url: "https://opensource.org/license/mit" },
      tags: groups().map((name) => ({ $ref: `#/components/tags/${name}` })),
    },
    defaultContentType: "application/json",
    channels: {
      webhookEndpoint: {
        // No `address`: the URL is yours to choose.
        title: "Your webhook endpoint",
        description:
          "The HTTPS URL registered with Optare. Optare POSTs every event type the endpoint subscribes to " +
          "there, one JSON body per request.",
        messages: Object.fromEntries(
          EVENT_TYPES.map((type) => [message(type), { $ref: `#/components/messages/${message(type)}` }]),
        ),
      },
    },
    operations: Object.fromEntries(
      EVENT_TYPES.map((type) => [
        `receive${pascalName(type)}`,
        {
          action: "receive",
          channel: { $ref: "#/channels/webhookEndpoint" },
          summary: catalog[type].description,
          description: `Optare sends \`${type}\`. ${eventDescription(type)}`,
          tags: [tag(type)],
          messages: [{ $ref: `#/channels/webhookEndpoint/messages/${message(type)}` }],
          bindings: { http: { method: "POST", bindingVersion: "0.3.0" } },
          // Authenticated by the signature header (see the messages' headers), not by a security scheme.
          security: [],
        },
      ]),
    ),
    components: {
      messages: Object.fromEntries(
        EVENT_TYPES.map((type) => [
          message(type),
          {
            name: type,
            title: type,
            summary: catalog[type].description,
            description: eventDescription(type),
            contentType: "application/json",
            headers: componentRef("SignatureHeaders"),
            payload: componentRef(eventName(type)),
            tags: [tag(type)],
            examples: [{ name: type, payload: exampleEvent(type) }],
          },
        ]),
      ),
      tags: Object.fromEntries(groups().map((name) => [name, { name, description: groupDescription(name) }])),
    },
  });
}

// ---------------------------------------------------------------------------------------------------
// Files

const LINE_WIDTH = 110; // biome.json: the JSON files are formatted as Biome would, so `biome check` passes.

/**
 * JSON as Biome formats it: objects one member per line; an array of plain values on one line when it
 * fits (`head` is the width already used on that line, plus one for a trailing comma), else one per line.
 */
function formatJson(value: unknown, indent = "", head = 0): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every((item) => item === null || typeof item !== "object")) {
      const line = `[${value.map((item) => JSON.stringify(item)).join(", ")}]`;
      if (head + line.length <= LINE_WIDTH) return line;
    }
    const items = value.map(
      (item, i) => inner + formatJson(item, inner, inner.length + (i < value.length - 1 ? 1 : 0)),
    );
    return `[\n${items.join(",\n")}\n${indent}]`;
  }
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    const members = entries.map(([key, item], i) => {
      const start = `${inner}${JSON.stringify(key)}: `;
      return start + formatJson(item, inner, start.length + (i < entries.length - 1 ? 1 : 0));
    });
    return `{\n${members.join(",\n")}\n${indent}}`;
  }
  return JSON.stringify(value);
}

/** Every generated file (path inside SCHEMAS_DIR → contents). */
export function renderSchemas(): Map<string, string> {
  const documents: Record<string, unknown> = {
    ...jsonSchemaFiles(),
    [OPENAPI_FILE]: openApiDocument(),
    [ASYNCAPI_FILE]: asyncApiDocument(),
  };
  return new Map(Object.entries(documents).map(([file, document]) => [file, `${formatJson(document)}\n`]));
}

/** The JSON files now in SCHEMAS_DIR (paths inside it); its README.md is written by hand. */
export function committedFiles(): string[] {
  let entries: string[];
  try {
    entries = readdirSync(SCHEMAS_DIR, { recursive: true, encoding: "utf8" });
  } catch {
    return [];
  }
  return entries.filter((path) => path.endsWith(".json")).sort();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = renderSchemas();
  let changed = 0;
  for (const stale of committedFiles().filter((path) => !files.has(path))) {
    rmSync(new URL(stale, SCHEMAS_DIR));
    console.log(`schemas/${stale}: removed`);
    changed++;
  }
  for (const [path, text] of files) {
    const file = new URL(path, SCHEMAS_DIR);
    let current: string | undefined;
    try {
      current = readFileSync(file, "utf8");
    } catch {}
    if (current === text) continue;
    mkdirSync(new URL(".", file), { recursive: true });
    writeFileSync(file, text);
    changed++;
    console.log(`schemas/${path}: ${current === undefined ? "written" : "regenerated"}`);
  }
  console.log(`packages/webhooks/schemas: ${files.size} files, ${changed} changed`);
}
