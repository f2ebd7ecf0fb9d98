import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { createWebhooks, type WebhookEvent } from "@optare/webhooks";
import { bytes, closeServers, digest, echo, listen, request } from "@optare/webhooks/test-http";
import { createWebhookMiddleware } from "@optare/webhooks-express";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";

// Real Express 5 (`express`) and Express 4 (`express4` = npm:express@4), real HTTP on loopback: what
// Express adds to the Node transport (body parsers before the middleware, `next`, mounting). The
// transport's own behaviour is tested in packages/webhooks/src/node.test.ts. The first block replaces
// the core by an `echo` of what reached it; the second runs the real core.
const express4: typeof express = createRequire(import.meta.url)("express4");

afterEach(closeServers);

/** An Express error handler that reports the error the middleware passed to `next`. */
function reportError(err: unknown, _req: unknown, res: express.Response, _next: unknown) {
  res.status(500).json({ passedToNext: (err as Error).message });
}

describe.each([
  ["Express 5", express],
  ["Express 4", express4],
])("createWebhookMiddleware on %s", (_name, framework) => {
  it("uses the Buffer left by express.raw()", async () => {
    const app = framework();
    app.post("/hook", framework.raw({ type: "*/*" }), createWebhookMiddleware(echo));
    const url = await listen(app);
    const res = await request(`${url}/hook`, {
      headers: { "content-type": "application/json" },
      chunks: [bytes],
    });
    expect(JSON.parse(res.body)).toMatchObject({ source: "bytes", length: bytes.length, sha256: digest });
  });

  it.each([
    ["a Buffer", (buf: Buffer) => buf, "bytes"],
    ["a string", (buf: Buffer) => buf.toString("latin1"), "string"],
  ])("uses req.rawBody kept by express.json({ verify }) as %s", async (_, keep, source) => {
    const app = framework();
    const body = Buffer.from('{ "event" :  "user.created",\n "id": "evt_1" }');
    app.use(framework.json({ verify: (req, _res, buf) => Object.assign(req, { rawBody: keep(buf) }) }));
    app.post("/hook", createWebhookMiddleware(echo));
    const url = await listen(app);
    const res = await request(`${url}/hook`, {
      headers: { "content-type": "application/json" },
      chunks: [body],
    });
    expect(JSON.parse(res.body)).toMatchObject({
      source,
      length: body.length,
      sha256: createHash("sha256").update(body).digest("hex"),
    });
  });

  it("streams the body when a global express.json() skipped it (other content type)", async () => {
    const app = framework();
    app.use(framework.json());
    app.post("/hook", createWebhookMiddleware(echo));
    const url = await listen(app);
    const res = await request(`${url}/hook`, { headers: { "content-type": "text/plain" }, chunks: [bytes] });
    expect(JSON.parse(res.body)).toMatchObject({ source: "stream", length: bytes.length, sha256: digest });
  });

  it("passes a failure of receive() to next()", async () => {
    const app = framework();
    app.post("/hook", createWebhookMiddleware({ receive: () => Promise.reject(new Error("boom")) }));
    app.use(reportError);
    const url = await listen(app);
    const res = await request(`${url}/hook`, { chunks: [bytes] });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body)).toEqual({ passedToNext: "boom" });
  });
});

describe.each([
  ["Express 5", express],
  ["Express 4", express4],
])("createWebhookMiddleware with the real core on %s", (_name, framework) => {
  const secret = "0123456789abcdef".repeat(4);

  function receiver() {
    const seen: WebhookEvent[] = [];
    const errors: string[] = [];
    const webhooks = createWebhooks({ secret, maxBodyBytes: 64 * 1024, logger: false })
      .onAny((event) => {
        seen.push(event);
      })
      .onError((error) => {
        errors.push(error.code);
      });
    return { middleware: createWebhookMiddleware(webhooks), seen, errors };
  }

  it.each([
    ["streamed from the request", (app: express.Express) => app],
    ["from express.raw()", (app: express.Express) => app.use(framework.raw({ type: "application/json" }))],
    [
      "from req.rawBody",
      (app: express.Express) =>
        app.use(framework.json({ verify: (req, _res, buf) => Object.assign(req, { rawBody: buf }) })),
    ],
    [
      "past a global express.json() that skips the webhook path",
      (app: express.Express) => {
        const json = framework.json();
        return app.use((req, res, next) => (req.path === "/webhooks/optare" ? next() : json(req, res, next)));
      },
    ],
  ])("verifies and processes a signed delivery with the body %s", async (_how, prepare) => {
    const { middleware, seen } = receiver();
    const app = prepare(framework());
    app.post("/webhooks/optare", middleware);
    const url = await listen(app);
    const event = createEvent("user.created");
    const { body, headers } = signEvent(event, secret);
    const res = await fetch(`${url}/webhooks/optare`, { method: "POST", body, headers });
    expect([res.status, await res.json()]).toEqual([200, { received: true }]);
    expect(seen.map((e) => e.id)).toEqual([event.id]);
    const tampered = await fetch(`${url}/webhooks/optare`, { method: "POST", body: `${body} `, headers });
    expect(tampered.status).toBe(401);
  });

  it.each([
    ["express.json()", "application/json", () => framework.json()],
    ["express.text()", "text/plain", () => framework.text()],
    [
      "express.urlencoded()",
      "application/x-www-form-urlencoded",
      () => framework.urlencoded({ extended: false }),
    ],
  ])("answers 500 raw_body_required at once after %s, and runs no handler", async (_, type, parser) => {
    const { middleware, seen, errors } = receiver();
    const app = framework();
    app.use(parser());
    app.post("/webhooks/optare", middleware);
    app.use(reportError); // must not be reached: the core answers
    const url = await listen(app);
    const { body, headers } = signEvent(createEvent("user.created"), secret);
    const res = await request(`${url}/webhooks/optare`, {
      headers: { ...headers, "content-type": type },
      chunks: [Buffer.from(body)],
    }); // times out (fails) if the middleware waited for the consumed stream
    expect(res.status).toBe(500);
    expect(res.headers["content-type"]).toBe("application/json");
    const { error } = JSON.parse(res.body) as { error: { code: string; message: string } };
    expect(error.code).toBe("raw_body_required");
    expect(error.message).toMatch(/before app\.use\(express\.json\(\)\)/);
    expect(error.message).toContain("req.rawBody");
    expect(seen).toEqual([]);
    expect(errors).toEqual(["raw_body_required"]); // reported to onError, for the developer's logs
  });

  it("answers the core's 405 with Allow: POST when mounted with app.all", async () => {
    const app = framework();
    app.all("/webhooks/optare", receiver().middleware);
    const url = await listen(app);
    const res = await fetch(`${url}/webhooks/optare`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });
});
