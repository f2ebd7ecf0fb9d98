// The black-box checks (SPEC §10): what any receiver, in any language, must answer to what the kit sends.
// Each names the §3 row it enforces. Valid deliveries go through the reference sender; requests a sender
// would never make are crafted and sent as raw bytes. Limits come from the core's defaults (or the
// receiver's own settings, given to runConformance), never from copied numbers.
import { createHmac, randomBytes } from "node:crypto";
import { EVENT_TYPES, OPTARE_RETRY_SPAN_MS, sign } from "@optare/webhooks";
import { describeAnswer } from "./conformance-http";
import {
  ALLOW_POST,
  type CheckSpec,
  type Crafted,
  expectAnswer,
  type Kit,
  type KitSettings,
  verdict,
} from "./conformance-kit";
import { fixtures } from "./fixtures";
import { ROWS, type Row } from "./rows";

/** An event type outside the catalog, which receivers must acknowledge (SPEC §2). */
export const UNKNOWN_EVENT_TYPE = "optare.conformance.unknown_event";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SIGNATURE = "x-optare-signature";

/** The same JSON with the keys of every object in reverse order: other bytes. */
function reorderKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reorderKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .reverse()
      .map(([key, inner]) => [key, reorderKeys(inner)]),
  );
}

interface Acceptance {
  type: string;
  data: Record<string, unknown>;
  /** The event time, when not now. */
  timestamp?: () => Date;
  /** What was sent, for the report. */
  sent?: string;
}

/** A valid delivery through the reference sender, to be acknowledged; its id then counts as accepted once. */
function accepts(name: string, row: Row, { type, data, timestamp, sent }: Acceptance): CheckSpec {
  return {
    name,
    row,
    expected: "2xx",
    async run(kit) {
      const id = kit.newId("ok");
      const answer = await kit.deliver(type, data, { id, timestamp: timestamp?.() });
      const outcome = expectAnswer("2xx", answer, `${sent ?? `Delivered a valid ${type} event`} (${id})`);
      if (outcome.passed) kit.accepted.push({ id, check: name });
      return outcome;
    },
  };
}

/** A validly signed body laid out by `layout` (not as JSON.stringify would), to be accepted as is. */
function acceptsBytes(name: string, sent: string, layout: (event: Crafted["event"]) => string): CheckSpec {
  return {
    name,
    row: ROWS.signature,
    expected: "2xx",
    async run(kit) {
      const crafted = kit.craft();
      const body = layout(crafted.event);
      const outcome = expectAnswer(
        "2xx",
        await kit.post(body, { [SIGNATURE]: sign(body, kit.secret) }),
        `${sent} (${crafted.id})`,
      );
      if (outcome.passed) kit.accepted.push({ id: crafted.id, check: name });
      return outcome;
    },
  };
}

/** A crafted POST, expected to be refused with `status`. */
function refuses(
  name: string,
  row: Row,
  status: string,
  sent: string,
  make: (kit: Kit) => { body: string; headers: Record<string, string> },
): CheckSpec {
  return {
    name,
    row,
    expected: status,
    async run(kit) {
      const { body, headers } = make(kit);
      return expectAnswer(status, await kit.post(body, headers), sent);
    },
  };
}

function acceptanceChecks({ maxEventAge, maxFutureSkew }: KitSettings): CheckSpec[] {
  const lateAge = Math.min(OPTARE_RETRY_SPAN_MS, maxEventAge / 2);
  const ahead = Math.min(MINUTE, maxFutureSkew / 2);
  const checks = [
    // The first is the probe: a failure for a reason of setup (no answer, 401) stops the kit.
    ...EVENT_TYPES.map((type) =>
      accepts(`accepts ${type}`, ROWS.firstDelivery, { type, data: fixtures[type] }),
    ),
    accepts("accepts an unknown event type", ROWS.unknownType, {
      type: UNKNOWN_EVENT_TYPE,
      data: { note: "an event type this SDK does not know" },
      sent: `Delivered a validly signed ${UNKNOWN_EVENT_TYPE} event`,
    }),
    acceptsBytes(
      "accepts a validly signed body laid out otherwise (indented, keys reordered, final newline)",
      "Signed and sent an indented body with its keys in reverse order and a final newline",
      (event) => `${JSON.stringify(reorderKeys(event), null, 2)}\n`,
    ),
    acceptsBytes(
      "accepts a validly signed body with non-ASCII characters and \\u escapes",
      'Signed and sent a body holding "Zoë 👋" as UTF-8 and "É" as \\u00c9',
      (event) => {
        const data = event.data as { user: Record<string, unknown> };
        const named = { ...event, data: { ...data, user: { ...data.user, name: "Zoë 👋 Éditions" } } };
        return JSON.stringify(named).replace("Éditions", "\\u00c9ditions");
      },
    ),
    accepts(
      `accepts an event timestamped ${Math.round(lateAge / MINUTE)} min ago (Optare's last retry)`,
      ROWS.eventAge,
      {
        type: "user.created",
        data: fixtures["user.created"],
        timestamp: () => new Date(Date.now() - lateAge),
        sent: `Delivered a valid event timestamped ${Math.round(lateAge / MINUTE)} min ago, as old as Optare's last retry of an event`,
      },
    ),
  ];
  if (ahead > 0) {
    checks.push(
      accepts(
        `accepts an event timestamped ${Math.round(ahead / 1000)} s ahead (clock skew)`,
        ROWS.eventAge,
        {
          type: "user.created",
          data: fixtures["user.created"],
          timestamp: () => new Date(Date.now() + ahead),
          sent: `Delivered a valid event timestamped ${Math.round(ahead / 1000)} s in the future, within the allowed clock skew`,
        },
      ),
    );
  }
  return checks;
}

function deduplicationChecks(): CheckSpec[] {
  const data = fixtures["user.created"];
  return [
    {
      name: "accepts a duplicate delivery (same id, same bytes)",
      row: ROWS.duplicate,
      expected: "2xx",
      async run(kit) {
        const sent = { id: kit.newId("dup"), timestamp: new Date() };
        kit.shared.duplicate = sent;
        const first = await kit.deliver("user.created", data, sent);
        const what = `Delivered the same event (${sent.id}) twice, byte for byte`;
        if (first.status === null || first.status >= 300)
          return expectAnswer("2xx", first, `${what}; the FIRST delivery was refused`);
        return expectAnswer("2xx", await kit.deliver("user.created", data, sent), what);
      },
    },
    {
      name: "refuses another body under an id it already processed",
      row: ROWS.conflict,
      expected: "422",
      async run(kit) {
        const sent = { id: kit.newId("conflict"), timestamp: new Date() };
        kit.shared.conflict = sent;
        const original = await kit.deliver("user.created", data, sent);
        if (original.status === null || original.status >= 300) {
          return expectAnswer(
            "2xx",
            original,
            `Delivered ${sent.id}, to send another body under its id next; it was refused`,
          );
        }
        const other = { user: { ...data.user, name: "Someone Else" } };
        const answer = await kit.deliver("user.created", other, sent);
        return expectAnswer(
          "422",
          answer,
          `Delivered ${sent.id} (answered ${describeAnswer(original)}), then another body (other data) under the same id`,
        );
      },
    },
    {
      name: "still takes the original body for a duplicate after a conflicting one",
      row: ROWS.duplicate,
      expected: "2xx",
      async run(kit) {
        const sent = kit.shared.conflict;
        if (sent === undefined) return verdict(false, "not run", "The conflict check did not run.");
        // The sender serialises the same envelope (id, timestamp, data) to the same bytes.
        return expectAnswer(
          "2xx",
          await kit.deliver("user.created", data, sent),
          `Delivered the original body of ${sent.id} again, after the conflicting one`,
        );
      },
    },
  ];
}

function methodChecks(): CheckSpec[] {
  return [
    {
      name: "answers GET with 405 and Allow: POST",
      row: ROWS.method,
      expected: "405 + Allow: POST",
      async run(kit) {
        return expectAnswer("405", await kit.request({ method: "GET" }, ""), "Sent GET", ALLOW_POST);
      },
    },
    {
      name: "answers a validly signed PUT with 405 and Allow: POST",
      row: ROWS.method,
      expected: "405 + Allow: POST",
      async run(kit) {
        const { body, headers } = kit.craft();
        return expectAnswer(
          "405",
          await kit.request({ method: "PUT", headers, body }, body),
          "Sent a validly signed event with PUT",
          ALLOW_POST,
        );
      },
    },
  ];
}

function signatureChecks(secret: string): CheckSpec[] {
  const reserialised = (
    name: string,
    sent: string,
    rewrite: (event: Record<string, unknown>, body: string) => string,
  ) =>
    refuses(name, ROWS.signature, "401", `${sent}, and kept the original signature`, (kit) => {
      const { event, body, headers } = kit.craft();
      return { body: rewrite(event, body), headers };
    });
  const withSignature = (kit: Kit, signature: (body: string, valid: string) => string) => {
    const { body, signature: valid } = kit.craft();
    return { body, headers: { [SIGNATURE]: signature(body, valid) } };
  };
  const checks = [
    refuses(
      "rejects a tampered body",
      ROWS.signature,
      "401",
      "Added a field to a signed body and kept its signature",
      (kit) => {
        const { event, headers } = kit.craft();
        return { body: JSON.stringify({ ...event, data: { ...event.data, tampered: true } }), headers };
      },
    ),
    reserialised(
      "rejects an indented copy of a signed body under the original signature",
      "Re-serialised a signed body with indentation (the same JSON)",
      (event) => JSON.stringify(event, null, 2),
    ),
    reserialised(
      "rejects a copy of a signed body with its keys reordered under the original signature",
      "Re-serialised a signed body with its keys in reverse order (the same JSON, no whitespace)",
      (event) => JSON.stringify(reorderKeys(event)),
    ),
    reserialised(
      "rejects a signed body with a newline appended under the original signature",
      "Appended a newline to a signed body (the same JSON)",
      (_event, body) => `${body}\n`,
    ),
    refuses(
      "rejects a signature made with another secret",
      ROWS.signature,
      "401",
      "Signed a valid body with a different secret",
      (kit) => withSignature(kit, (body) => sign(body, randomBytes(32).toString("hex"))),
    ),
  ];
  if (secret.length % 2 === 0 && /^[0-9a-f]+$/i.test(secret)) {
    checks.push(
      refuses(
        "rejects a signature keyed with the hex-decoded secret",
        ROWS.signature,
        "401",
        "Signed a valid body with the secret's hex-decoded bytes as the key (the key is the secret's text)",
        (kit) =>
          withSignature(kit, (body) =>
            createHmac("sha256", Buffer.from(kit.secret, "hex")).update(body).digest("hex"),
          ),
      ),
    );
  }
  checks.push(
    refuses(
      "rejects a missing signature",
      ROWS.signature,
      "401",
      "Sent a valid body without X-Optare-Signature",
      (kit) => ({ body: kit.craft().body, headers: {} }),
    ),
    refuses(
      "rejects a signature with extra characters",
      ROWS.signature,
      "401",
      "Sent the correct signature followed by two more hex digits (66 characters)",
      (kit) => withSignature(kit, (_body, valid) => `${valid}00`),
    ),
    refuses(
      "rejects a truncated signature",
      ROWS.signature,
      "401",
      "Sent the first 62 hex digits of the correct signature",
      (kit) => withSignature(kit, (_body, valid) => valid.slice(0, 62)),
    ),
    refuses(
      "rejects a non-hex signature",
      ROWS.signature,
      "401",
      "Sent 64 characters that are not all hex digits",
      (kit) => withSignature(kit, (_body, valid) => `zz${valid.slice(2)}`),
    ),
    refuses(
      "rejects an unsigned body before parsing it",
      ROWS.signature,
      "401",
      "Sent malformed JSON with a wrong signature: the signature is checked first",
      (kit) => ({
        body: `{"event":"user.created","data":{"note":"${kit.canary}"`,
        headers: { [SIGNATURE]: sign("another body", kit.secret) },
      }),
    ),
    {
      name: "rejects a bad signature under the id of a processed event",
      row: ROWS.signature,
      expected: "401",
      async run(kit) {
        const sent = kit.shared.duplicate;
        if (sent === undefined) return verdict(false, "not run", "The duplicate check did not run.");
        const { body } = kit.craft({ id: sent.id, timestamp: sent.timestamp });
        const headers = { [SIGNATURE]: sign(body, randomBytes(32).toString("hex")) };
        const sentText = `Sent a body under the id of processed event ${sent.id} with a wrong signature: deduplication comes after verification`;
        return expectAnswer("401", await kit.post(body, headers), sentText);
      },
    },
  );
  return checks;
}

function timestampChecks({ maxEventAge, maxFutureSkew }: KitSettings): CheckSpec[] {
  return [
    refuses(
      "rejects a stale timestamp",
      ROWS.eventAge,
      "401",
      `Sent a validly signed event timestamped ${Math.round(maxEventAge / HOUR)} h + 1 h ago`,
      (kit) => kit.craft({ timestamp: new Date(Date.now() - maxEventAge - HOUR) }),
    ),
    refuses(
      "rejects a timestamp more than 5 min in the future",
      ROWS.eventAge,
      "401",
      `Sent a validly signed event timestamped ${Math.round((maxFutureSkew + 5 * MINUTE) / MINUTE)} min in the future`,
      (kit) => kit.craft({ timestamp: new Date(Date.now() + maxFutureSkew + 5 * MINUTE) }),
    ),
  ];
}

function payloadChecks({ invalidData }: KitSettings): CheckSpec[] {
  const schemaStatus = invalidData === "accept" ? "2xx" : "422";
  return [
    refuses(
      "rejects malformed JSON",
      ROWS.malformed,
      "400",
      "Sent a validly signed body that is not JSON",
      (kit) => {
        const body = `{"event":"user.created","id":"${kit.newId("malformed")}","data":{"note":"${kit.canary}"`;
        return { body, headers: { [SIGNATURE]: sign(body, kit.secret) } };
      },
    ),
    refuses(
      "rejects JSON that is not an event envelope",
      ROWS.malformed,
      "400",
      "Sent a validly signed, fresh event envelope without its id",
      (kit) => {
        const { id: _id, ...rest } = kit.craft().event;
        const body = JSON.stringify(rest);
        return { body, headers: { [SIGNATURE]: sign(body, kit.secret) } };
      },
    ),
    refuses(
      "refuses a known event whose data fails its schema",
      ROWS.invalidData,
      schemaStatus,
      "Sent a validly signed user.created whose data.user lacks email and emailVerified",
      (kit) =>
        kit.craft({
          data: { user: { id: "user_conformance", name: kit.canary, createdAt: new Date().toISOString() } },
        }),
    ),
  ];
}

function oversizeBody(kit: Kit): string {
  const { event } = kit.craft();
  return JSON.stringify({
    ...event,
    data: { ...event.data, padding: `${kit.canary} ${"x".repeat(kit.settings.maxBodyBytes)}` },
  });
}

async function* chunksOf(body: string): AsyncIterable<Uint8Array> {
  const bytes = Buffer.from(body);
  for (let at = 0; at < bytes.length; at += 64 * 1024) yield bytes.subarray(at, at + 64 * 1024);
}

function sizeChecks({ maxBodyBytes }: KitSettings): CheckSpec[] {
  return [
    refuses(
      "rejects an oversize body",
      ROWS.bodyLimit,
      "413",
      `Sent a validly signed event over the ${maxBodyBytes}-byte limit, with its Content-Length`,
      (kit) => {
        const body = oversizeBody(kit);
        return { body, headers: { [SIGNATURE]: sign(body, kit.secret) } };
      },
    ),
    {
      name: "rejects an oversize body streamed without Content-Length",
      row: ROWS.bodyLimit,
      expected: "413",
      async run(kit) {
        const body = oversizeBody(kit);
        const headers = { "content-type": "application/json", [SIGNATURE]: sign(body, kit.secret) };
        const answer = await kit.request({ method: "POST", headers, body: chunksOf(body) }, body);
        return expectAnswer(
          "413",
          answer,
          `Streamed a validly signed event over the ${maxBodyBytes}-byte limit in chunks, without Content-Length`,
        );
      },
    },
  ];
}

/** Every black-box check, in order; the first is the probe. */
export function blackBoxChecks({ secret, settings }: Pick<Kit, "secret" | "settings">): CheckSpec[] {
  return [
    ...acceptanceChecks(settings),
    ...deduplicationChecks(),
    ...methodChecks(),
    ...signatureChecks(secret),
    ...timestampChecks(settings),
    ...payloadChecks(settings),
    ...sizeChecks(settings),
  ];
}
