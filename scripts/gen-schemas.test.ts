import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { catalog, EVENT_TYPES, type EventType, envelopeSchema, isEventType } from "@optare/webhooks";
import { envelopeProblem } from "@optare/webhooks/event";
import { createEvent, DOCS_INVITATION_ACCEPTED, DOCS_USER_CREATED, fixtures } from "@optare/webhooks-testing";
import { createConfig, lintFromString, type NormalizedProblem } from "@redocly/openapi-core";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ANY_EVENT_FILE,
  ASYNCAPI_FILE,
  BASE_URI,
  committedFiles,
  dataName,
  ENVELOPE_FILE,
  eventName,
  eventSchemaFile,
  type JsonSchema,
  OPENAPI_FILE,
  renderSchemas,
  SCHEMAS_DIR,
} from "./gen-schemas";

// The parser's ESM build does not load in plain Node (extensionless imports): take its CommonJS entry.
const { Parser: AsyncApiParser } = createRequire(import.meta.url)(
  "@asyncapi/parser",
) as typeof import("@asyncapi/parser");

const files = renderSchemas();
const read = (file: string) => JSON.parse(files.get(file)!) as JsonSchema;

/** ajv 8 on the 2020-12 dialect, strict, with ajv-formats, holding every generated JSON Schema file. */
function createAjv() {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary(["x-optare-group", "x-optare-published"]);
  for (const file of files.keys()) if (file.endsWith(".schema.json")) ajv.addSchema(read(file));
  return ajv;
}
const ajv = createAjv();
const validator = (file: string, pointer = "") => {
  const validate = ajv.getSchema(`${BASE_URI}${file}${pointer ? `#${pointer}` : ""}`);
  if (!validate) throw new Error(`no schema ${file}#${pointer}`);
  return (value: unknown) => validate(value) as boolean;
};
const validateEnvelope = validator(ENVELOPE_FILE);
const validateAnyEvent = validator(ANY_EVENT_FILE);
const validateEvent = Object.fromEntries(EVENT_TYPES.map((type) => [type, validator(eventSchemaFile(type))]));
const validateData = Object.fromEntries(
  EVENT_TYPES.map((type) => [type, validator(eventSchemaFile(type), `/$defs/${dataName(type)}`)]),
);

describe("packages/webhooks/schemas", () => {
  it("is what the catalog generates (run `pnpm gen:schemas` after changing the catalog)", () => {
    expect(committedFiles()).toEqual([...files.keys()].sort());
    for (const [file, text] of files)
      expect(readFileSync(new URL(file, SCHEMAS_DIR), "utf8"), file).toBe(text);
  });

  it("ships in @optare/webhooks as `@optare/webhooks/schemas/*`", () => {
    const pkg = JSON.parse(
      readFileSync(new URL("../packages/webhooks/package.json", import.meta.url), "utf8"),
    );
    expect(pkg.files).toContain("schemas");
    expect(pkg.exports["./schemas/*"]).toBe("./schemas/*");
    const readme = readFileSync(new URL("README.md", SCHEMAS_DIR), "utf8");
    for (const file of [ENVELOPE_FILE, ANY_EVENT_FILE, "events/", OPENAPI_FILE, ASYNCAPI_FILE])
      expect(readme).toContain(file);
  });

  it("has a JSON Schema per event type, titled, described and marked from the catalog", () => {
    for (const type of EVENT_TYPES) {
      const schema = read(eventSchemaFile(type));
      expect(schema).toMatchObject({
        $schema: "https://json-schema.org/draft/2020-12/schema",
        $id: `${BASE_URI}${eventSchemaFile(type)}`,
        title: type,
        "x-optare-group": catalog[type].group,
        "x-optare-published": catalog[type].published,
        properties: { event: { const: type } },
      });
      expect(schema.description).toContain(catalog[type].description);
      expect(String(schema.description).includes("Added by the SDK")).toBe(!catalog[type].published);
    }
    const anyEvent = read(ANY_EVENT_FILE).oneOf as unknown[];
    expect(anyEvent).toHaveLength(EVENT_TYPES.length + 1); // and the unknown event
  });

  it("says every object is open (`additionalProperties: true`), as the runtime keeps unknown fields", () => {
    const objects: JsonSchema[] = [];
    const visit = (value: unknown) => {
      if (Array.isArray(value)) return value.forEach(visit);
      if (typeof value !== "object" || value === null) return;
      const schema = value as JsonSchema;
      if (schema.type === "object" && !("allOf" in schema)) objects.push(schema);
      Object.values(schema).forEach(visit);
    };
    visit(read(ANY_EVENT_FILE).$defs);
    expect(objects.length).toBeGreaterThan(EVENT_TYPES.length + 10);
    for (const object of objects) expect(object.additionalProperties).toBe(true);
  });

  it("gives OpenAPI and AsyncAPI the same schema objects as the JSON Schema files", () => {
    const defs = read(ANY_EVENT_FILE).$defs as Record<string, JsonSchema>;
    const asJsonSchema = (schema: unknown) =>
      JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"#/$defs/'));
    for (const file of [OPENAPI_FILE, ASYNCAPI_FILE]) {
      const { schemas } = read(file).components as { schemas: Record<string, JsonSchema> };
      for (const type of EVENT_TYPES) {
        expect(asJsonSchema(schemas[eventName(type)]), `${file} ${type}`).toEqual(defs[eventName(type)]);
        expect(asJsonSchema(schemas[dataName(type)]), `${file} ${type}`).toEqual(defs[dataName(type)]);
      }
      for (const name of ["Envelope", "User", "UserRef", "Session", "OAuthToken", "ApiKey"])
        expect(asJsonSchema(schemas[name])).toEqual(defs[name]);
    }
  });
});

describe("ajv 8 (2020-12, strict, ajv-formats)", () => {
  it("accepts every fixture, createEvent() and the documentation's two samples, each under its own schema", () => {
    const events = [
      ...EVENT_TYPES.map((type) => createEvent(type)),
      ...EVENT_TYPES.map((type) => createEvent(type, { timestamp: "2025-11-11T10:30:00+01:00" })),
      JSON.parse(DOCS_USER_CREATED),
      JSON.parse(DOCS_INVITATION_ACCEPTED),
    ] as { event: EventType; data: unknown }[];
    for (const event of events) {
      expect(validateEvent[event.event]!(event), event.event).toBe(true);
      expect(validateAnyEvent(event), event.event).toBe(true);
      expect(validateEnvelope(event), event.event).toBe(true);
      expect(validateData[event.event]!(event.data), event.event).toBe(true);
    }
    for (const type of EVENT_TYPES) expect(validateData[type]!(fixtures[type]), type).toBe(true);
  });

  it("accepts the examples the OpenAPI and AsyncAPI documents carry", () => {
    const openapi = read(OPENAPI_FILE).components as { schemas: Record<string, { examples?: unknown[] }> };
    const asyncapi = read(ASYNCAPI_FILE).components as {
      messages: Record<string, { examples: { payload: unknown }[] }>;
    };
    const examples = [
      ...Object.values(openapi.schemas).flatMap((schema) => schema.examples ?? []),
      ...Object.values(asyncapi.messages).flatMap((message) =>
        message.examples.map((example) => example.payload),
      ),
    ] as { event: EventType }[];
    expect(examples).toHaveLength(2 * EVENT_TYPES.length);
    for (const example of examples) expect(validateEvent[example.event]!(example), example.event).toBe(true);
  });

  it("tells events apart by `event`, and accepts an unknown event type only in the combined schema", () => {
    const created = createEvent("user.created");
    expect(validateEvent["user.deleted"]!({ ...created, event: "user.deleted" })).toBe(true); // a User is a UserRef
    expect(validateEvent["user.deleted"]!(created)).toBe(false);
    expect(validateEvent["session.created"]!({ ...created, event: "session.created" })).toBe(false);
    expect(validateAnyEvent({ ...created, data: { user: { id: "u" } } })).toBe(false);
    const unknown = { ...created, event: "user.teleported", data: { anything: 1 } };
    expect(validateAnyEvent(unknown)).toBe(true);
    expect(validateEnvelope(unknown)).toBe(true);
    expect(validateAnyEvent({ ...unknown, timestamp: "yesterday" })).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------
// Property tests: payloads around each event, judged by zod (the runtime) and by ajv (the schemas).

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Every location inside `value`, its root excluded. */
function pathsOf(value: Json, prefix: Path = []): Path[] {
  if (typeof value !== "object" || value === null) return [];
  const entries: [string | number, Json][] = Array.isArray(value)
    ? value.map((item, index) => [index, item])
    : Object.entries(value);
  return entries.flatMap(([key, item]) => [[...prefix, key], ...pathsOf(item, [...prefix, key])]);
}

function at(value: Json, path: Path): Json {
  return path.reduce<Json>((node, key) => (node as Record<string, Json>)[key]!, value);
}

/** Sets an own property, even `__proto__` (as JSON.parse does). */
function put(target: Json, key: string | number, item: Json) {
  Object.defineProperty(target, key, { value: item, enumerable: true, writable: true, configurable: true });
}

/** A value of another JSON type than `value`. */
function otherType(value: Json): Json {
  if (typeof value === "string") return value.length;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null) return "null";
  return Array.isArray(value) ? { ...value } : Object.values(value);
}

/** Every property name the schemas know, so that mutations also add optional fields, of any type. */
const KNOWN_KEYS = [...new Set(JSON.stringify(read(ANY_EVENT_FILE)).match(/"[a-zA-Z]+"(?=:)/g)!)].map((key) =>
  JSON.parse(key),
) as string[];

const mutationArb = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom("remove", "replace", "null", "otherType", "add", "empty"),
  key: fc.oneof(fc.constantFrom(...KNOWN_KEYS, "__proto__", "extra"), fc.string({ maxLength: 4 })),
  value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
});
type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

/** `base` with the mutations applied in turn: fields removed, replaced, nulled, retyped, emptied or added. */
function mutate(base: Json, mutations: Mutation[]): Json {
  let value = structuredClone(base);
  for (const mutation of mutations) {
    const paths = pathsOf(value);
    if (paths.length === 0) {
      value = mutation.value;
      continue;
    }
    const path = paths[mutation.at % paths.length]!;
    const key = path.at(-1)!;
    const parent = at(value, path.slice(0, -1)) as Record<string | number, Json>;
    const current = parent[key]!;
    switch (mutation.kind) {
      case "remove":
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
        break;
      case "replace":
        put(parent, key, mutation.value);
        break;
      case "null":
        put(parent, key, null);
        break;
      case "otherType":
        put(parent, key, otherType(current));
        break;
      case "empty":
        put(parent, key, typeof current === "string" ? "" : Array.isArray(current) ? [] : {});
        break;
      case "add": {
        const target =
          typeof current === "object" && current !== null && !Array.isArray(current) ? current : parent;
        if (!Array.isArray(target)) put(target, mutation.key, mutation.value);
        break;
      }
    }
  }
  return value;
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value)) as Json;
const typeArb = fc.constantFrom(...EVENT_TYPES);
const mutationsArb = fc.array(mutationArb, { maxLength: 3 });

/** Two digits, mostly within [min, max], sometimes just outside or anywhere. */
const digits = (min: number, max: number) =>
  fc
    .oneof(
      { weight: 12, arbitrary: fc.integer({ min, max }) },
      { weight: 2, arbitrary: fc.constantFrom(min - 1, min, max, max + 1).filter((n) => n >= 0) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 99 }) },
    )
    .map((n) => String(n).padStart(2, "0"));
/** Strings shaped like timestamps, most of them near the edges of the rule, plus real ones and noise. */
const timestampArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        year: fc.oneof(
          fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, "0")),
          fc.constantFrom("2025", "0000", "0011", "0031", "0099", "25", "20250"),
        ),
        month: digits(1, 12),
        day: digits(1, 31),
        separator: fc.constantFrom("T", "T", "t", " ", "_", ""),
        hour: digits(0, 24),
        minute: digits(0, 59),
        second: fc.option(digits(0, 59)),
        fraction: fc.option(
          fc.array(fc.constantFrom("0", "0", "1", "5", "9"), { maxLength: 10 }).map((d) => d.join("")),
        ),
        zone: fc.oneof(
          fc.constantFrom("Z", "Z", "z", "", "+0100", "+01", "Z+01:00"),
          fc
            .tuple(fc.constantFrom("+", "-"), digits(0, 23), digits(0, 59))
            .map(([sign, h, m]) => `${sign}${h}:${m}`),
        ),
      })
      .map(
        (t) =>
          `${t.year}-${t.month}-${t.day}${t.separator}${t.hour}:${t.minute}` +
          `${t.second === null ? "" : `:${t.second}${t.fraction === null ? "" : `.${t.fraction}`}`}${t.zone}`,
      ),
  },
  { weight: 2, arbitrary: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

/** What the receiver makes of an envelope's timestamp (`envelopeProblem`, `Date.parse` inside). */
const runtimeAcceptsTimestamp = (timestamp: string) =>
  envelopeProblem({ ...createEvent("user.created"), timestamp }) === null;

/** Counts both answers, so a test can insist that its payloads were not all valid or all invalid. */
function tally() {
  const counts = { valid: 0, invalid: 0 };
  return {
    counts,
    add: (valid: boolean) => {
      counts[valid ? "valid" : "invalid"]++;
      return valid;
    },
  };
}

describe("zod and ajv agree on property-generated payloads", () => {
  it.each(EVENT_TYPES)("%s data: catalog schema (zod) ⇔ JSON Schema (ajv)", (type) => {
    const { counts, add } = tally();
    const dataArb = fc.oneof(
      { weight: 16, arbitrary: fc.tuple(fc.constant(type), mutationsArb) },
      { weight: 3, arbitrary: fc.tuple(typeArb, mutationsArb) }, // another event's data
    );
    const payloadArb = fc.oneof(
      { weight: 19, arbitrary: dataArb.map(([base, mutations]) => mutate(json(fixtures[base]), mutations)) },
      { weight: 1, arbitrary: fc.jsonValue() as fc.Arbitrary<Json> },
    );
    fc.assert(
      fc.property(payloadArb, (data) => {
        const zod = add(catalog[type].data.safeParse(data).success);
        expect(validateData[type]!(data)).toBe(zod);
      }),
      { numRuns: 300 },
    );
    expect(counts.valid).toBeGreaterThan(30);
    expect(counts.invalid).toBeGreaterThan(30);
  });

  const eventArb = fc
    .record({
      type: typeArb,
      event: fc.oneof(
        { weight: 8, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: typeArb },
        { weight: 1, arbitrary: fc.constantFrom("", "user.teleported", "USER.CREATED", "user.created ") },
      ),
      timestamp: fc.oneof(
        { weight: 2, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: timestampArb },
      ),
      organization: fc.boolean(),
      mutations: mutationsArb,
    })
    .map(({ type, event, timestamp, organization, mutations }) => {
      const base = json(
        createEvent(type, { id: "evt_1", timestamp: timestamp ?? "2025-11-11T10:30:00Z" }),
      ) as {
        [key: string]: Json;
      };
      if (event !== undefined) base.event = event;
      if (!organization) delete base.organization;
      return mutate(base, mutations);
    });

  it("the envelope: envelopeSchema and envelopeProblem (zod and the receiver) ⇔ envelope.schema.json", () => {
    const { counts, add } = tally();
    fc.assert(
      fc.property(eventArb, (value) => {
        const zod = envelopeSchema.safeParse(value).success;
        expect(envelopeProblem(value) === null).toBe(zod);
        expect(validateEnvelope(value)).toBe(add(zod));
      }),
      { numRuns: 1500 },
    );
    expect(counts.valid).toBeGreaterThan(200);
    expect(counts.invalid).toBeGreaterThan(200);
  });

  it("any event: what the receiver accepts (envelope, then the data of a known type) ⇔ event.schema.json and events/<type>.schema.json", () => {
    const { counts, add } = tally();
    fc.assert(
      fc.property(eventArb, typeArb, (value, schemaType) => {
        const event = value as { event: string; data: unknown };
        const envelope = envelopeProblem(value) === null;
        const known = envelope && isEventType(event.event);
        const data = known && catalog[event.event as EventType].data.safeParse(event.data).success;
        expect(validateAnyEvent(value)).toBe(add(envelope && (!known || data)));
        expect(validateEvent[schemaType]!(value)).toBe(data && event.event === schemaType);
        if (known) expect(validateEvent[event.event as EventType]!(value)).toBe(data);
      }),
      { numRuns: 1500 },
    );
    expect(counts.valid).toBeGreaterThan(200);
    expect(counts.invalid).toBeGreaterThan(200);
  });

  it("the timestamp rule: the receiver (its pattern, then Date.parse) ⇔ the schema's pattern", () => {
    const { counts, add } = tally();
    fc.assert(
      fc.property(timestampArb, (timestamp) => {
        const event = { ...createEvent("user.created"), timestamp };
        expect(validateEnvelope(event)).toBe(add(runtimeAcceptsTimestamp(timestamp)));
      }),
      { numRuns: 5000 },
    );
    expect(counts.valid).toBeGreaterThan(500);
    expect(counts.invalid).toBeGreaterThan(500);
  });

  it.each([
    ["2025-11-11T10:30:00Z", true],
    ["2025-11-11t10:30z", true], // no seconds, lower case
    ["2025-11-11T10:30:00.123456789+05:30", true],
    ["2025-11-11 10:30:00Z", false], // a space instead of T: V8 would read it leniently ("0011-…" as 2025)
    ["2025-02-31T10:30:00Z", true], // ECMAScript's date-time format allows day 31 in any month
    ["2025-11-11T24:00:00Z", true],
    ["2025-11-11T24:00:01Z", false],
    ["2025-11-11T10:30:00+24:00", false],
    ["2025-11-11T10:30:00", false], // no zone
    ["2025-11-11", false],
    ["2025-13-11T10:30:00Z", false],
    ["Tue, 11 Nov 2025 10:30:00 GMT", false],
  ])("timestamp %s: %s for the receiver and for the schema", (timestamp, expected) => {
    expect(runtimeAcceptsTimestamp(timestamp)).toBe(expected);
    expect(validateEnvelope({ ...createEvent("user.created"), timestamp })).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------------
// Independent tools

function summarize(problems: NormalizedProblem[]) {
  return problems.map(
    (problem) => `${problem.severity} ${problem.ruleId} ${problem.location[0]?.pointer}: ${problem.message}`,
  );
}

describe("independent validators", () => {
  // Redocly's recommended rules, but one: `no-empty-servers` asks for `servers`, which a webhooks-only
  // document (OpenAPI 3.1) has none of: the requests go to the receiver's URL, whatever it is.
  const redocly = createConfig({ extends: ["recommended"], rules: { "no-empty-servers": "off" } });

  it("Redocly (@redocly/openapi-core) finds no problem in openapi.json, and does find a broken example", {
    timeout: 30_000,
  }, async () => {
    const config = await redocly;
    const source = files.get(OPENAPI_FILE)!;
    expect(summarize(await lintFromString({ source, absoluteRef: OPENAPI_FILE, config }))).toEqual([]);
    // The linter has teeth: it validates the schemas' examples and resolves every $ref.
    const broken = JSON.parse(source);
    broken.components.schemas.UserCreatedEvent.examples[0].timestamp = "yesterday";
    broken.webhooks["user.created"].post.requestBody.content["application/json"].schema.$ref += "s";
    const problems = summarize(
      await lintFromString({ source: JSON.stringify(broken), absoluteRef: OPENAPI_FILE, config }),
    );
    expect(problems.join("\n")).toMatch(
      /no-invalid-schema-examples .*UserCreatedEvent\/examples\/0\/timestamp/,
    );
    expect(problems.join("\n")).toMatch(/no-unresolved-refs/);
  });

  it("Redocly also lints asyncapi.json: no error; warned only that the operations use no security scheme", async () => {
    const config = await redocly;
    const problems = await lintFromString({
      source: files.get(ASYNCAPI_FILE)!,
      absoluteRef: ASYNCAPI_FILE,
      config,
    });
    // The signature header authenticates each message; it is described there, not as a security scheme.
    expect(new Set(problems.map((problem) => `${problem.severity} ${problem.ruleId}`))).toEqual(
      new Set(["warn security-defined"]),
    );
    expect(problems).toHaveLength(EVENT_TYPES.length);
  });

  it("@asyncapi/parser finds asyncapi.json a valid AsyncAPI 3.0 document, and rejects a broken one", {
    timeout: 60_000,
  }, async () => {
    const parser = new AsyncApiParser();
    const source = files.get(ASYNCAPI_FILE)!;
    const { document, diagnostics } = await parser.parse(source);
    // Severity 0 is an error, 1 a warning; an information (2) says AsyncAPI 3.1.0 exists.
    expect(
      diagnostics
        .filter((diagnostic) => diagnostic.severity < 2)
        .map((d) => `${d.code} ${d.path.join("/")}: ${d.message}`),
    ).toEqual([]);
    expect(document?.operations().length).toBe(EVENT_TYPES.length);
    expect(document?.messages().length).toBe(EVENT_TYPES.length);
    expect(
      document
        ?.messages()
        .all()
        .map((message) => message.name())
        .sort(),
    ).toEqual([...EVENT_TYPES].sort());

    const broken = JSON.parse(source);
    broken.operations[`receive${eventName("user.created").replace(/Event$/, "")}`].action = "listen";
    const problems = await parser.validate(JSON.stringify(broken));
    expect(problems.some((diagnostic) => diagnostic.severity === 0)).toBe(true);
  });
});
