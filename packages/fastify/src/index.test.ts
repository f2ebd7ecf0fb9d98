import { once } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { createWebhooks, type HandleContext, type WebhookEvent } from "@optare/webhooks";
import { bytes, digest, echo, request } from "@optare/webhooks/test-http";
import { createWebhookPlugin } from "@optare/webhooks-fastify";
import { cooperate, createEvent, runConformance, signEvent } from "@optare/webhooks-testing";
import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";

// Real Fastify 5 apps on loopback. The first block replaces the core by an `echo` of what reached it (the
// exact bytes, whatever the content type); the second runs the real core beside the app's own JSON routes.
const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** A Fastify app with a JSON route beside the plugin; `prepare` registers the plugin (and anything else). */
async function serve(
  prepare: (app: FastifyInstance) => unknown,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = Fastify();
  apps.push(app);
  app.post("/api/items", async (req) => ({ parsed: req.body }));
  await prepare(app);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { app, url };
}

describe("createWebhookPlugin on Fastify 5", () => {
  it.each([
    ["application/json", { "content-type": "application/json" }],
    ["text/plain", { "content-type": "text/plain; charset=utf-8" }],
    ["application/x-www-form-urlencoded", { "content-type": "application/x-www-form-urlencoded" }],
    ["no Content-Type", {}],
    ["no Content-Type, chunked", { "transfer-encoding": "chunked" }],
  ])("hands the core the exact body bytes, unparsed, with %s", async (_, headers) => {
    const { url } = await serve((app) => app.register(createWebhookPlugin(echo)));
    const res = await request(`${url}/webhooks/optare`, {
      headers: { ...headers, "x-optare-signature": "sig" },
      chunks: [bytes.subarray(0, 4), bytes.subarray(4)],
    });
    expect([res.status, JSON.parse(res.body)]).toEqual([
      200,
      { method: "POST", signature: "sig", source: "stream", length: bytes.length, sha256: digest },
    ]);
  });

  it("leaves the app's JSON parsing alone, for routes registered before and after the plugin", async () => {
    const { url } = await serve(async (app) => {
      await app.register(createWebhookPlugin(echo));
      app.put("/api/later", async (req) => ({ parsed: req.body }));
    });
    for (const [method, path] of [
      ["POST", "/api/items"],
      ["PUT", "/api/later"],
    ] as const) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: '{"a":[1,2]}',
      });
      expect([res.status, await res.json()]).toEqual([200, { parsed: { a: [1, 2] } }]);
    }
    // Fastify's own JSON parser still answers there, and still refuses what it cannot parse.
    const broken = await fetch(`${url}/api/items`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{",
    });
    expect(broken.status).toBe(400);
  });

  it("serves the route at `path`, under the prefix it is registered with", async () => {
    const { url } = await serve((app) =>
      app.register(createWebhookPlugin(echo, { path: "/optare" }), { prefix: "/hooks" }),
    );
    const res = await request(`${url}/hooks/optare`, { chunks: [bytes] });
    expect(JSON.parse(res.body)).toMatchObject({ source: "stream", sha256: digest });
    expect((await fetch(`${url}/webhooks/optare`, { method: "POST" })).status).toBe(404);
  });

  it("passes its context (waitUntil) to the core", async () => {
    const seen: (HandleContext | undefined)[] = [];
    const waitUntil = (_: Promise<unknown>) => {};
    const receiver = {
      receive: async (_input: unknown, context?: HandleContext) => {
        seen.push(context);
        return { status: 202, headers: { "x-from": "core" }, body: "ok" };
      },
    };
    const { url } = await serve((app) => app.register(createWebhookPlugin(receiver, { waitUntil })));
    const res = await fetch(`${url}/webhooks/optare`, { method: "POST", body: "{}" });
    expect([res.status, res.headers.get("x-from"), await res.text()]).toEqual([202, "core", "ok"]);
    expect(seen).toEqual([{ waitUntil }]);
  });

  it("passes a failure of receive() to Fastify's error handler", async () => {
    const { url } = await serve((app) =>
      app.register(createWebhookPlugin({ receive: () => Promise.reject(new Error("boom")) })),
    );
    const res = await fetch(`${url}/webhooks/optare`, { method: "POST", body: "{}" });
    expect([res.status, ((await res.json()) as { message: string }).message]).toEqual([500, "boom"]);
  });
});

describe("createWebhookPlugin with the real core on Fastify 5", () => {
  const secret = "0123456789abcdef".repeat(4);

  async function serveCore(options: { maxBodyBytes?: number; ackTimeoutMs?: number } = {}) {
    const seen: WebhookEvent[] = [];
    const webhooks = createWebhooks({ secret, maxBodyBytes: 64 * 1024, logger: false, ...options }).onAny(
      (event) => void seen.push(event),
    );
    const cooperative = cooperate(webhooks);
    const { app, url } = await serve((app) => {
      // A hook of the app: it still runs on the webhook route's replies (the reply is Fastify's own).
      app.addHook("onSend", async (_req, reply) => void reply.header("x-app-hook", "ran"));
      return app.register(createWebhookPlugin(webhooks));
    });
    let closed = 0;
    app.server.on("connection", (socket) => socket.on("close", () => closed++));
    return { url: `${url}/webhooks/optare`, base: url, seen, cooperative, closedConnections: () => closed };
  }

  it("verifies and processes a signed delivery, once; refuses a tampered one", async () => {
    const { url, seen } = await serveCore();
    const event = createEvent("user.created");
    const { body, headers } = signEvent(event, secret);
    const first = await fetch(url, { method: "POST", body, headers });
    expect([first.status, await first.json(), first.headers.get("x-app-hook")]).toEqual([
      200,
      { received: true },
      "ran",
    ]);
    const again = await fetch(url, { method: "POST", body, headers });
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    const tampered = await fetch(url, { method: "POST", body: body.replace("john@", "evil@"), headers });
    expect([tampered.status, tampered.headers.get("content-type")]).toEqual([401, "application/json"]);
    expect(seen.map((e) => e.id)).toEqual([event.id]);
  });

  it("keeps serving JSON on the app's other route beside the real core", async () => {
    const { base } = await serveCore();
    const res = await fetch(`${base}/api/items`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"b":true}',
    });
    expect(await res.json()).toEqual({ parsed: { b: true } });
  });

  it.each(["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"])(
    "answers %s with the core's 405 and Allow: POST",
    async (method) => {
      const { url } = await serveCore();
      const withBody = !["GET", "HEAD"].includes(method);
      const res = await fetch(url, { method, ...(withBody ? { body: "{}" } : {}) });
      expect([res.status, res.headers.get("allow")]).toEqual([405, "POST"]);
      if (method !== "HEAD") expect(await res.text()).toContain("method_not_allowed");
    },
  );

  it("applies the core's body limit, not Fastify's bodyLimit (1 MiB)", async () => {
    const { url } = await serveCore({ maxBodyBytes: 2 * 1024 * 1024 });
    // 1.5 MiB: over Fastify's default bodyLimit, under the core's. The core reads it all and checks it.
    const res = await fetch(url, { method: "POST", body: "x".repeat(1.5 * 1024 * 1024) });
    const answer = (await res.json()) as { error: { code: string } };
    expect([res.status, answer.error.code]).toEqual([401, "signature_missing"]);
  });

  it("answers the core's 413 to a chunked body that grows past the limit, over a still-open socket", async () => {
    const { url } = await serveCore();
    const req = httpRequest(url, { method: "POST", headers: { "transfer-encoding": "chunked" } });
    req.on("error", () => {});
    for (let i = 0; i < 3; i++) req.write("x".repeat(32 * 1024));
    const [response] = (await once(req, "response")) as [IncomingMessage];
    let body = "";
    for await (const chunk of response) body += chunk;
    expect([response.statusCode, JSON.parse(body).error.code]).toEqual([413, "payload_too_large"]);
    req.destroy();
  });

  it("keeps the kept-alive connection usable after a 413 on Content-Length", async () => {
    const { url, closedConnections } = await serveCore();
    for (let i = 0; i < 3; i++) {
      const tooLarge = await fetch(url, { method: "POST", body: "x".repeat(256 * 1024) });
      expect([tooLarge.status, await tooLarge.text()]).toEqual([
        413,
        expect.stringContaining("payload_too_large"),
      ]);
      // Reuses the pooled connection: it stalls, then resets, if the unread body was never discarded.
      const next = await fetch(url, { method: "POST", body: "{}" });
      expect([next.status, await next.text()]).toEqual([401, expect.stringContaining("signature_missing")]);
    }
    expect(closedConnections()).toBe(0);
  });

  it("passes the kit's black-box and cooperative checks (ack deadline included)", async () => {
    const { url, cooperative } = await serveCore({ maxBodyBytes: 1024 * 1024, ackTimeoutMs: 500 });
    const report = await runConformance({ url, secret, cooperative, ackTimeoutMs: 500 });
    expect(report.checks.filter((check) => !check.passed)).toEqual([]);
    expect(report.checks.length).toBeGreaterThan(30);
  }, 30_000);
});
