// `optare-webhooks dev`'s server over real HTTP on loopback: the guard (Host, Origin, Sec-Fetch-Site),
// live validation, sending to a real receiver, the SSE stream, retries on the virtual clock, bad input.
import { createWebhooks } from "@optare/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtures } from "../fixtures";
import { serveHandler } from "../test-receiver";
import { startDev } from "./dev";
import { tamper } from "./dev-sender";
import { startInspectorServer } from "./server";
import { post, readEvents, request } from "./test-http";

const secret = "0123456789abcdef".repeat(4);
const payload = (value: unknown) => JSON.stringify(value, null, 2);

let app: { url: string; close(): Promise<void> };
let dev: Awaited<ReturnType<typeof startDev>>;
let base = "";
const lines: string[] = [];
/** The receiver answers 500 to the first attempt of each event whose user id is "user_fail". */
const failed = new Set<string>();

beforeAll(async () => {
  const webhooks = createWebhooks({ secret, logger: false }).onAny((event) => {
    const user = (event.data as { user?: { id?: string } }).user;
    if (user?.id === "user_fail" && !failed.has(event.id)) {
      failed.add(event.id);
      throw new Error("fails once");
    }
  });
  app = await serveHandler((req) => webhooks.handle(req));
  dev = await startDev({ forwardTo: app.url, secret, port: 0, log: (line) => lines.push(line), tickMs: 50 });
  base = dev.url;
});
afterAll(async () => {
  await dev?.close();
  await app?.close();
});

describe("the guard", () => {
  it("binds to 127.0.0.1 and serves the page to its own Host only (403 host_not_allowed otherwise)", async () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await request(base);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script type="module" src="/inspector.js">');
    const rebound = await request(base, { headers: { host: `evil.example:${dev.port}` } });
    expect(rebound.status).toBe(403);
    expect(rebound.json().error.code).toBe("host_not_allowed");
    const otherPort = await request(`${base}api/secret`, { headers: { host: "127.0.0.1:1" } });
    expect(otherPort.status).toBe(403);
    expect(otherPort.body).not.toContain(secret);
    const localhost = await request(`${base}api/state`, { headers: { host: `localhost:${dev.port}` } });
    expect(localhost.status).toBe(200);
  });

  it("refuses cross-origin control requests with 403 cross_origin and sends no CORS headers", async () => {
    const attempts: Array<{ path: string; method: string; headers: Record<string, string>; body?: string }> =
      [
        { path: "api/secret", method: "GET", headers: { origin: "https://evil.example" } },
        { path: "api/secret", method: "GET", headers: { "sec-fetch-site": "cross-site" } },
        { path: "api/events", method: "GET", headers: { "sec-fetch-site": "same-site" } },
        {
          path: "api/send",
          method: "POST",
          headers: { origin: "http://localhost:1", "content-type": "application/json" },
          body: JSON.stringify({ type: "user.created", payload: payload(fixtures["user.created"]) }),
        },
        {
          path: "api/endpoint",
          method: "POST",
          headers: { origin: "null", "content-type": "application/json" },
          body: '{"active":false}',
        },
      ];
    for (const { path, ...init } of attempts) {
      const answer = await request(`${base}${path}`, init);
      expect({ path, status: answer.status, code: answer.json().error.code }).toEqual({
        path,
        status: 403,
        code: "cross_origin",
      });
      expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
      expect(answer.body).not.toContain(secret);
    }
    expect((await request(`${base}api/state`)).json().endpoint.isActive).toBe(true);
  });

  it("gives the secret to its own page, uncached", async () => {
    const answer = await request(`${base}api/secret`, { headers: { "sec-fetch-site": "same-origin" } });
    expect(answer.status).toBe(200);
    expect(answer.json()).toEqual({ secret });
    expect(answer.headers["cache-control"]).toBe("no-store");
    expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
  });
});

describe("validation", () => {
  it("answers field-level errors as path: message, and valid for the fixture", async () => {
    const ok = await post(base, "api/validate", {
      type: "user.created",
      payload: payload(fixtures["user.created"]),
    });
    expect(ok.json()).toEqual({ valid: true, errors: [] });

    const broken = { user: { ...fixtures["user.created"].user, email: 42, emailVerified: undefined } };
    const answer = await post(base, "api/validate", { type: "user.created", payload: payload(broken) });
    expect(answer.status).toBe(200);
    expect(answer.json().valid).toBe(false);
    expect(answer.json().errors).toEqual(
      expect.arrayContaining([
        { path: "user.email", message: "expected string, got number 42" },
        { path: "user.emailVerified", message: "required (boolean)" },
      ]),
    );
    const scopes = {
      ...fixtures["oauth.token.issued"],
      token: { ...fixtures["oauth.token.issued"].token, scopes: ["openid", 7] },
    };
    const nested = await post(base, "api/validate", { type: "oauth.token.issued", payload: payload(scopes) });
    expect(nested.json().errors).toEqual([
      { path: "token.scopes[1]", message: "expected string, got number 7" },
    ]);
  });

  it("reports a payload that is not JSON as invalid_json, and an unknown type as 400 unknown_event_type", async () => {
    const notJson = await post(base, "api/validate", { type: "user.created", payload: "{ user: " });
    expect(notJson.status).toBe(200);
    expect(notJson.json()).toMatchObject({
      valid: false,
      code: "invalid_json",
      errors: [{ path: "(root)" }],
    });
    const unknown = await post(base, "api/validate", { type: "user.exploded", payload: "{}" });
    expect(unknown.status).toBe(400);
    expect(unknown.json().error.code).toBe("unknown_event_type");
  });
});

describe("sending", () => {
  it("delivers to the app and pushes the delivery over SSE with status, signature and response body", async () => {
    const events = await readEvents(`${base}api/events`);
    try {
      expect(events.response.headers["content-type"]).toMatch(/^text\/event-stream/);
      const sent = await post(base, "api/send", {
        type: "user.created",
        payload: payload(fixtures["user.created"]),
      });
      expect(sent.status).toBe(200);
      const { eventId } = sent.json();
      const delivery = await events.next("delivery", (view) => view.eventId === eventId);
      expect(delivery).toMatchObject({
        event: "user.created",
        attempt: 1,
        statusCode: 200,
        success: true,
        tampered: false,
      });
      expect(delivery.signature).toMatch(/^[0-9a-f]{64}$/);
      expect(delivery.responseBody).toBe('{"received":true}');
      expect(lines.some((line) => line.includes(eventId) && line.startsWith("✓ 200"))).toBe(true);
    } finally {
      events.close();
    }
  });

  it("a tampered signature gets the app's 401; a duplicate has the same id and the app answers it as one", async () => {
    const tampered = (
      await post(base, "api/send", {
        type: "user.deleted",
        payload: payload(fixtures["user.deleted"]),
        tampered: true,
      })
    ).json();
    expect(tampered.deliveries[0]).toMatchObject({ statusCode: 401, tampered: true, success: false });
    const good = (
      await post(base, "api/send", { type: "user.deleted", payload: payload(fixtures["user.deleted"]) })
    ).json();
    expect(tampered.deliveries[0].signature).not.toBe(good.deliveries[0].signature);

    const again = await post(base, "api/duplicate", { eventId: good.eventId });
    expect(again.json().eventId).toBe(good.eventId);
    expect(again.json().deliveries[0]).toMatchObject({
      statusCode: 200,
      signature: good.deliveries[0].signature,
    });
    expect(again.json().deliveries[0].responseBody).toContain('"duplicate":true');

    const resent = (await post(base, "api/resend", { eventId: good.eventId })).json();
    expect(resent.eventId).not.toBe(good.eventId);
    expect(resent.deliveries[0].responseBody).toBe('{"received":true}');
  });

  it("a failed attempt is retried when asked to run retries now, and the history lists both", async () => {
    // A sender of its own, so that no other test's pending retry comes due first.
    const own = await startDev({ forwardTo: app.url, secret, port: 0, log: () => {} });
    try {
      const data = { user: { ...fixtures["user.created"].user, id: "user_fail" } };
      const first = (
        await post(own.url, "api/send", { type: "user.created", payload: payload(data) })
      ).json();
      expect(first.deliveries[0]).toMatchObject({ attempt: 1, statusCode: 500 });
      expect(Date.parse(first.deliveries[0].nextAttemptAt)).toBeGreaterThan(Date.now() + 50_000);
      expect((await request(`${own.url}api/state`)).json().retries.pending).toBe(1);

      const ran = await post(own.url, "api/retries/run", {});
      expect(ran.status).toBe(200);
      expect(ran.json()).toEqual({ attempts: 1, retries: { pending: 0, nextAt: null } });
      const history = (await request(`${own.url}api/state`)).json().deliveries;
      expect(history.map((view: any) => [view.eventId, view.attempt, view.statusCode])).toEqual([
        [first.eventId, 2, 200],
        [first.eventId, 1, 500],
      ]);
    } finally {
      await own.close();
    }
  });

  it("retries also run on their own as the virtual clock follows wall time", async () => {
    let now = Date.now();
    const realNow = Date.now;
    const own = await startDev({ forwardTo: app.url, secret, port: 0, log: () => {}, tickMs: 10 });
    try {
      Date.now = () => now;
      const data = { user: { ...fixtures["user.created"].user, id: "user_fail" } };
      const first = (
        await post(own.url, "api/send", { type: "user.created", payload: payload(data) })
      ).json();
      expect(first.deliveries[0].statusCode).toBe(500);
      const events = await readEvents(`${own.url}api/events`);
      now += 61_000; // a minute of wall time passes
      const retry = await events.next("delivery", (view) => view.eventId === first.eventId);
      events.close();
      expect(retry).toMatchObject({ attempt: 2, statusCode: 200 });
    } finally {
      Date.now = realNow;
      await own.close();
    }
  });

  it("a paused endpoint refuses sends with 409 endpoint_paused until resumed", async () => {
    expect((await post(base, "api/endpoint", { active: false })).json()).toEqual({ isActive: false });
    const refused = await post(base, "api/send", {
      type: "user.created",
      payload: payload(fixtures["user.created"]),
    });
    expect(refused.status).toBe(409);
    expect(refused.json().error.code).toBe("endpoint_paused");
    expect((await post(base, "api/endpoint", { active: true })).json()).toEqual({ isActive: true });
  });
});

describe("bad input", () => {
  it("answers each with its status and a stable code, and keeps serving", async () => {
    const cases: Array<
      [string, { path: string; body?: unknown; raw?: string; type?: string }, number, string]
    > = [
      [
        "schema",
        { path: "api/send", body: { type: "user.created", payload: '{"user":{}}' } },
        422,
        "invalid_payload",
      ],
      [
        "not JSON payload",
        { path: "api/send", body: { type: "user.created", payload: "nope" } },
        400,
        "invalid_json",
      ],
      [
        "unknown type",
        { path: "api/send", body: { type: "nope.nope", payload: "{}" } },
        400,
        "unknown_event_type",
      ],
      ["no type", { path: "api/send", body: { payload: "{}" } }, 400, "invalid_request"],
      ["request not JSON", { path: "api/send", raw: "{" }, 400, "invalid_request"],
      [
        "not JSON content type",
        { path: "api/send", raw: "{}", type: "text/plain" },
        415,
        "unsupported_media_type",
      ],
      ["unknown event id", { path: "api/duplicate", body: { eventId: "evt_never" } }, 404, "unknown_event"],
      ["bad toggle", { path: "api/endpoint", body: { active: "yes" } }, 400, "invalid_request"],
      ["unknown route", { path: "api/nothing", body: {} }, 404, "not_found"],
      ["wrong method", { path: "api/secret", body: {} }, 405, "method_not_allowed"],
    ];
    for (const [name, input, status, code] of cases) {
      const answer = await request(`${base}${input.path}`, {
        method: "POST",
        headers: { "content-type": input.type ?? "application/json", origin: new URL(base).origin },
        body: input.raw ?? JSON.stringify(input.body),
      });
      expect({ name, status: answer.status, code: answer.json().error.code }).toEqual({ name, status, code });
    }
    const schema = await post(base, "api/send", { type: "user.created", payload: '{"user":{}}' });
    expect(schema.json().error.fields).toContainEqual({ path: "user.id", message: "required (string)" });
    expect((await request(base)).status).toBe(200);
  });

  it("a port in use is refused with port_in_use", async () => {
    await expect(startInspectorServer({ port: dev.port, routes: {} })).rejects.toMatchObject({
      code: "port_in_use",
    });
  });

  it("an app that is down is a failed attempt (network_error), said in the terminal", async () => {
    const down = await serveHandler(async () => new Response(null));
    await down.close();
    const offline = await startDev({ forwardTo: down.url, secret, port: 0, log: (line) => lines.push(line) });
    try {
      const sent = await post(offline.url, "api/send", {
        type: "user.created",
        payload: payload(fixtures["user.created"]),
      });
      expect(sent.status).toBe(200);
      expect(sent.json().deliveries[0]).toMatchObject({ statusCode: null, errorCode: "network_error" });
      expect(lines).toContainEqual(`  ${down.url} did not answer: is your app running there?`);
    } finally {
      await offline.close();
    }
  });
});

it("tamper changes exactly one hex digit", () => {
  const signature = `${"a".repeat(63)}0`;
  expect(tamper(signature)).toBe(`${"a".repeat(63)}1`);
  expect(tamper(`${"a".repeat(63)}f`)).toBe(`${"a".repeat(63)}0`);
});
