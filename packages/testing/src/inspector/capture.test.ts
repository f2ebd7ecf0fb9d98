// `optare-webhooks inspect`'s server over real HTTP on loopback: the signature verdicts, field errors,
// byte-for-byte forwarding (the bytes the app receives are the bytes the inspector received), bad input.
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { sign } from "@optare/webhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvent } from "../fixtures";
import { startCapture } from "./capture";
import { readEvents, request } from "./test-http";

const secret = "0123456789abcdef".repeat(4);
const lines: string[] = [];

/** A stand-in for the app: records the exact bytes and headers of each request, answers 202. */
const received: Array<{ body: Buffer; headers: IncomingHttpHeaders }> = [];
const app = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    received.push({ body: Buffer.concat(chunks), headers: req.headers });
    res.writeHead(202, { "content-type": "application/json" }).end('{"app":"got it"}');
  });
});
let appUrl = "";
let capture: Awaited<ReturnType<typeof startCapture>>;
let plain: Awaited<ReturnType<typeof startCapture>>;

beforeAll(async () => {
  await new Promise<void>((resolve) => app.listen(0, "127.0.0.1", resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}/webhooks/optare`;
  capture = await startCapture({ secret, port: 0, forwardTo: appUrl, log: (line) => lines.push(line) });
  plain = await startCapture({ secret, port: 0, log: (line) => lines.push(line) });
});
afterAll(async () => {
  await capture?.close();
  await plain?.close();
  app.closeAllConnections();
  await new Promise((resolve) => app.close(resolve));
});

/** POSTs `body` to the plain capture server and returns the capture it recorded, read from the SSE stream. */
async function captured(body: string | Buffer, headers: Record<string, string>) {
  const events = await readEvents(`${plain.url}api/events`);
  try {
    const answer = await request(plain.receiveUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    expect(answer.status).toBe(200);
    const view = await events.next("capture");
    expect(answer.json()).toEqual({ received: true, signature: view.verdict.code });
    return view;
  } finally {
    events.close();
  }
}

describe("signature verdicts", () => {
  const body = JSON.stringify(createEvent("user.created"));

  it("valid: signed over the exact bytes with this secret", async () => {
    const view = await captured(body, { "x-optare-signature": sign(body, secret) });
    expect(view.verdict).toMatchObject({ code: "valid", valid: true });
    expect(view.body).toBe(body);
    expect(view.headers).toContainEqual(["x-optare-signature", sign(body, secret)]);
    expect(view.validation).toEqual({ event: "user.created", known: true, errors: [] });
  });

  it("wrong secret: signed with another secret", async () => {
    const view = await captured(body, { "x-optare-signature": sign(body, "another secret") });
    expect(view.verdict).toMatchObject({ code: "wrong_secret", valid: false });
  });

  it("re-serialised body: the signature matches JSON.stringify(JSON.parse(body)), not the bytes sent", async () => {
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    const view = await captured(pretty, { "x-optare-signature": sign(body, secret) });
    expect(view.verdict).toMatchObject({ code: "reserialised", valid: false });
    expect(view.body).toBe(pretty);
  });

  it("stale: a valid signature over an event more than 24 h old", async () => {
    const old = JSON.stringify(
      createEvent("user.created", { timestamp: new Date(Date.now() - 25 * 3_600_000) }),
    );
    const view = await captured(old, { "x-optare-signature": sign(old, secret) });
    expect(view.verdict).toMatchObject({ code: "stale", valid: false });
  });

  it("future: a valid signature over an event more than 5 min ahead", async () => {
    const ahead = JSON.stringify(
      createEvent("user.created", { timestamp: new Date(Date.now() + 10 * 60_000) }),
    );
    const view = await captured(ahead, { "x-optare-signature": sign(ahead, secret) });
    expect(view.verdict).toMatchObject({ code: "future", valid: false });
  });

  it("missing: no signature header", async () => {
    const view = await captured(body, {});
    expect(view.verdict).toMatchObject({ code: "missing", valid: false });
    expect(
      lines.some((line) => line.startsWith("✗ POST /webhooks/optare  user.created  signature: missing")),
    ).toBe(true);
  });
});

describe("field validation", () => {
  it("names each field that breaks the envelope or the event's schema", async () => {
    const event = createEvent("member.role.changed") as any;
    event.data.member.role = 3;
    delete event.data.previousRole;
    const bad = JSON.stringify(event);
    const view = await captured(bad, { "x-optare-signature": sign(bad, secret) });
    expect(view.verdict.code).toBe("valid");
    expect(view.validation.errors).toEqual(
      expect.arrayContaining([
        { path: "data.member.role", message: "expected string, got number 3" },
        { path: "data.previousRole", message: "required (string)" },
      ]),
    );
    const noEnvelope = await captured('{"event":"user.created"}', {});
    expect(noEnvelope.validation.errors.map((error: any) => error.path)).toEqual(
      expect.arrayContaining(["id", "timestamp", "data"]),
    );
    const notJson = await captured("hello", {});
    expect(notJson.validation.errors[0]).toMatchObject({ path: "(root)" });
    expect(notJson.validation.errors[0].message).toMatch(/^not JSON/);
  });

  it("passes an unknown event type through as unknown, not as an error", async () => {
    const unknown = JSON.stringify({ ...createEvent("user.created"), event: "billing.invoice.paid" });
    const view = await captured(unknown, { "x-optare-signature": sign(unknown, secret) });
    expect(view.validation).toEqual({ event: "billing.invoice.paid", known: false, errors: [] });
  });
});

describe("forwarding", () => {
  it("forwards the exact bytes with the same Content-Type and signature, and relays the app's answer", async () => {
    // Bytes a re-serialisation would change: spacing, key order, an escaped character, a non-ASCII name.
    const body = Buffer.from(
      `{ "id":"evt_bytes_1","event":"user.created" , "timestamp":"${new Date().toISOString()}",` +
        `"data":{"user":{"id":"u","email":"j\\u00f6@example.com","name":"Jöhn","emailVerified":true,"createdAt":"2025-01-01T00:00:00Z"}}}\n`,
    );
    const signature = sign(body, secret);
    const events = await readEvents(`${capture.url}api/events`);
    const before = received.length;
    const answer = await request(capture.receiveUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json; charset=utf-8",
        "x-optare-signature": signature,
        "x-other": "not forwarded",
      },
      body,
    });
    const view = await events.next("capture");
    events.close();

    expect(received.length).toBe(before + 1);
    const forwarded = received.at(-1)!;
    expect(forwarded.body.equals(body)).toBe(true);
    expect(forwarded.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(forwarded.headers["x-optare-signature"]).toBe(signature);
    expect(forwarded.headers["x-other"]).toBeUndefined();
    expect(answer.status).toBe(202);
    expect(answer.body).toBe('{"app":"got it"}');
    expect(view.forward).toMatchObject({ status: 202, body: '{"app":"got it"}' });
    expect(view.verdict.code).toBe("valid");
  });

  it("a forward target that is down: 502 forward_unreachable to the sender, shown on the page and in the terminal", async () => {
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, "127.0.0.1", resolve));
    const downUrl = `http://127.0.0.1:${(down.address() as AddressInfo).port}/hook`;
    await new Promise((resolve) => down.close(resolve));
    const offline = await startCapture({
      secret,
      port: 0,
      forwardTo: downUrl,
      log: (line) => lines.push(line),
    });
    try {
      const events = await readEvents(`${offline.url}api/events`);
      const answer = await request(offline.receiveUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      const view = await events.next("capture");
      events.close();
      expect(answer.status).toBe(502);
      expect(answer.json().error.code).toBe("forward_unreachable");
      expect(view.forward.error.code).toBe("forward_unreachable");
      expect(lines.some((line) => line.includes(`Forwarding to ${downUrl} failed`))).toBe(true);
    } finally {
      await offline.close();
    }
  });
});

describe("bad input and the guard", () => {
  it("refuses what is not a webhook with a stable code, and keeps serving", async () => {
    const get = await request(plain.receiveUrl);
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe("POST");
    expect(get.json().error.code).toBe("method_not_allowed");
    const huge = await request(plain.receiveUrl, { method: "POST", body: Buffer.alloc(1024 * 1024 + 1, 32) });
    expect(huge.status).toBe(413);
    expect(huge.json().error.code).toBe("payload_too_large");
    const crossSite = await request(plain.receiveUrl, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "text/plain" },
      body: "{}",
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.json().error.code).toBe("cross_origin");
    const rebound = await request(`${plain.url}api/state`, { headers: { host: "attacker.example" } });
    expect(rebound.status).toBe(403);
    expect(rebound.json().error.code).toBe("host_not_allowed");
    expect((await request(`${plain.url}api/state`)).json().mode).toBe("inspect");
  });

  it("keeps the newest 50 captures only", async () => {
    for (let index = 0; index < 55; index++) {
      await request(plain.receiveUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
    }
    expect((await request(`${plain.url}api/state`)).json().captures).toHaveLength(50);
  });
});
