import { createHash } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import {
  type BodySource,
  createWebhooks,
  type WebhookEvent,
  type WebhookReply,
  type WebhookRequest,
  type Webhooks,
} from "@optare/webhooks";
import { createWebhookMiddleware } from "@optare/webhooks-express";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";

// Real Express 5 (`express`) and Express 4 (`express4` = npm:express@4), real HTTP on loopback.
// The first block replaces the core by small `receive` functions: it tests the transport alone (what
// reaches `receive`, what gets written back). The second block runs the real core.
const express4: typeof express = createRequire(import.meta.url)("express4");

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(app: http.RequestListener): Promise<string> {
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** How the body reached the core, and its bytes: reading a streamed body reads the request. */
async function readSource(body: BodySource): Promise<{ source: string; bytes: Buffer }> {
  if (body === null) return { source: "none", bytes: Buffer.alloc(0) };
  if (typeof body === "string") return { source: "string", bytes: Buffer.from(body) };
  if (body instanceof Uint8Array) return { source: "bytes", bytes: Buffer.from(body) };
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
  return { source: "stream", bytes: Buffer.concat(chunks) };
}

function json(value: unknown, status = 200): WebhookReply {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(value) };
}

/** Echoes what reached the core: method, signature header, body source and a digest of the exact bytes. */
const echo: Pick<Webhooks, "receive"> = {
  async receive(input: WebhookRequest) {
    const { source, bytes } = await readSource(input.body);
    return json({
      method: input.method,
      signature: input.header("x-optare-signature"),
      source,
      length: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    });
  },
};

/** Non-UTF-8, non-JSON bytes: any decode/re-encode on the way would change their digest. */
const bytes = Buffer.from([0x7b, 0xff, 0x00, 0xfe, 0x22, 0x0d, 0x0a, 0xc3, 0x28, 0x7d]);
const digest = createHash("sha256").update(bytes).digest("hex");

/** An Express error handler that reports the error the middleware passed to `next`. */
function reportError(err: unknown, _req: unknown, res: express.Response, _next: unknown) {
  res.status(500).json({ passedToNext: (err as Error).message });
}

/** One request over a fresh or given agent, with full control of headers and body chunks. */
function request(
  url: string,
  options: {
    method?: string;
    headers?: http.OutgoingHttpHeaders;
    chunks?: Buffer[];
    agent?: http.Agent;
  } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; socket: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? "POST", headers: options.headers, agent: options.agent },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => (body += chunk));
        const socket = res.socket.localPort!; // tells a reused kept-alive connection from a new one
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body, socket }));
      },
    );
    req.setTimeout(5000, () => req.destroy(new Error("timed out: the server hung")));
    req.on("error", reject);
    for (const chunk of options.chunks ?? []) req.write(chunk);
    req.end();
  });
}

describe.each([
  ["Express 5", express],
  ["Express 4", express4],
])("createWebhookMiddleware on %s", (_name, framework) => {
  it("streams the exact raw bytes, the method and the headers to receive()", async () => {
    const app = framework();
    app.post("/webhooks/optare", createWebhookMiddleware(echo));
    const url = await listen(app);
    const res = await fetch(`${url}/webhooks/optare`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-optare-signature": "ab".repeat(32) },
      body: bytes,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      method: "POST",
      signature: "ab".repeat(32),
      source: "stream",
      length: bytes.length,
      sha256: digest,
    });
  });

  it("reads a body that came with its headers without waiting on stream events", async () => {
    // Counts 'readable' listeners: the reader should find the whole body already parsed.
    let readableListeners = 0;
    const app = framework();
    app.post(
      "/hook",
      (req, _res, next) => {
        const on = req.on;
        req.on = function (this: typeof req, event: string | symbol, listener: (...args: unknown[]) => void) {
          if (event === "readable") readableListeners++;
          return on.call(this, event, listener);
        } as typeof req.on;
        next();
      },
      createWebhookMiddleware(echo),
    );
    const url = await listen(app);
    // One write: head and body reach the server in one packet.
    const res = await request(`${url}/hook`, {
      headers: { "content-length": String(bytes.length) },
      chunks: [bytes],
    });
    expect(JSON.parse(res.body)).toMatchObject({ source: "stream", length: bytes.length, sha256: digest });
    expect(readableListeners).toBe(0);
    // A body that arrives later is still awaited.
    const late = await new Promise<string>((resolve, reject) => {
      const req = http.request(`${url}/hook`, { method: "POST", headers: { "content-length": "10" } });
      req.on("response", (r) => {
        let text = "";
        r.on("data", (chunk) => (text += chunk));
        r.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.flushHeaders();
      setTimeout(() => req.end(bytes), 50);
    });
    expect(JSON.parse(late)).toMatchObject({ length: bytes.length, sha256: digest });
    expect(readableListeners).toBeGreaterThan(0);
  });

  it("passes a chunked body of many chunks through unchanged", async () => {
    const app = framework();
    app.post("/hook", createWebhookMiddleware(echo));
    const url = await listen(app);
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
    const res = await request(`${url}/hook`, { chunks });
    expect(JSON.parse(res.body)).toMatchObject({
      source: "stream",
      length: 500_000,
      sha256: createHash("sha256").update(Buffer.concat(chunks)).digest("hex"),
    });
  });

  it("writes back the status, every header and the body of the reply", async () => {
    const app = framework();
    app.all(
      "/hook",
      createWebhookMiddleware({
        async receive() {
          return {
            status: 409,
            headers: { "retry-after": "7", "content-type": "application/json", "x-a": "1" },
            body: '{"error":{"code":"event_in_progress"}}',
          };
        },
      }),
    );
    const url = await listen(app);
    const res = await request(`${url}/hook`, { chunks: [Buffer.from("{}")] });
    expect(res.status).toBe(409);
    expect(res.headers["retry-after"]).toBe("7");
    expect(res.headers["content-type"]).toBe("application/json");
    expect(res.headers["x-a"]).toBe("1");
    expect(res.body).toBe('{"error":{"code":"event_in_progress"}}');
    // A sized reply, not chunked encoding: less work for both ends on every request.
    expect(res.headers["content-length"]).toBe(String(Buffer.byteLength(res.body)));
    expect(res.headers["transfer-encoding"]).toBeUndefined();
  });

  it("hands GET to the core, which answers it", async () => {
    const app = framework();
    const methods: string[] = [];
    app.all(
      "/hook",
      createWebhookMiddleware({
        async receive(input) {
          methods.push(input.method);
          return { status: 405, headers: { allow: "POST" }, body: "" };
        },
      }),
    );
    const url = await listen(app);
    const res = await request(`${url}/hook`, { method: "GET" });
    expect([res.status, res.headers.allow, methods]).toEqual([405, "POST", ["GET"]]);
  });

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

  it("writes the reply while the body is still unread, on the open socket", async () => {
    const app = framework();
    app.post(
      "/hook",
      createWebhookMiddleware({
        async receive(input) {
          const chunks = (input.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
          await chunks.next(); // one chunk, then answer without reading on or closing the stream
          return json({ error: { code: "payload_too_large" } }, 413);
        },
      }),
    );
    const url = await listen(app);
    const req = http.request(`${url}/hook`, { method: "POST", headers: { "transfer-encoding": "chunked" } });
    req.on("error", () => {}); // the server may stop reading the unfinished body
    req.write(Buffer.alloc(64 * 1024, 97));
    const [res] = (await once(req, "response")) as [http.IncomingMessage];
    expect(res.statusCode).toBe(413);
    req.destroy();
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
    const webhooks = createWebhooks({ secret, maxBodyBytes: 64 * 1024 })
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

  it("answers the core's 413 to an oversized body, declared or streamed, on one connection", async () => {
    const app = framework();
    app.post("/webhooks/optare", receiver().middleware);
    const url = await listen(app);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = Array.from({ length: 64 }, () => Buffer.alloc(16 * 1024, 32));
      const declared = await request(`${url}/webhooks/optare`, {
        agent,
        headers: { "content-length": String(64 * 16 * 1024) },
        chunks: big,
      });
      expect([declared.status, JSON.parse(declared.body).error.code]).toEqual([413, "payload_too_large"]);
      const streamed = await request(`${url}/webhooks/optare`, { agent, chunks: big });
      expect([streamed.status, JSON.parse(streamed.body).error.code]).toEqual([413, "payload_too_large"]);
      const event = createEvent("user.deleted");
      const { body, headers } = signEvent(event, secret);
      const after = await request(`${url}/webhooks/optare`, { agent, headers, chunks: [Buffer.from(body)] });
      expect(after.status).toBe(200);
      expect([streamed.socket, after.socket]).toEqual([declared.socket, declared.socket]);
    } finally {
      agent.destroy();
    }
  });

  it("survives a sender that disconnects halfway through the body", async () => {
    const { middleware, seen } = receiver();
    const app = framework();
    app.post("/webhooks/optare", middleware);
    const url = await listen(app);
    await new Promise<void>((resolve) => {
      const req = http.request(`${url}/webhooks/optare`, {
        method: "POST",
        headers: { "content-length": "5000" },
      });
      req.on("error", () => resolve());
      req.write(Buffer.alloc(1000, 32), () => setTimeout(() => req.destroy(), 50));
    });
    const event = createEvent("user.deleted");
    const { body, headers } = signEvent(event, secret);
    const res = await fetch(`${url}/webhooks/optare`, { method: "POST", body, headers });
    expect(res.status).toBe(200);
    expect(seen.map((e) => e.id)).toEqual([event.id]);
  });

  it("answers the core's 405 with Allow: POST when mounted with app.all", async () => {
    const app = framework();
    app.all("/webhooks/optare", receiver().middleware);
    const url = await listen(app);
    const res = await fetch(`${url}/webhooks/optare`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });

  it("answers 405 to a PUT with a body and keeps the kept-alive connection usable", async () => {
    const { middleware, seen } = receiver();
    const app = framework();
    app.all("/webhooks/optare", middleware);
    const url = await listen(app);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = Array.from({ length: 8 }, () => Buffer.alloc(16 * 1024, 32));
      const put = await request(`${url}/webhooks/optare`, { agent, method: "PUT", chunks: big });
      expect([put.status, put.headers.allow, JSON.parse(put.body).error.code]).toEqual([
        405,
        "POST",
        "method_not_allowed",
      ]);
      const event = createEvent("user.deleted");
      const { body, headers } = signEvent(event, secret);
      const after = await request(`${url}/webhooks/optare`, { agent, headers, chunks: [Buffer.from(body)] });
      expect(after.status).toBe(200);
      expect(after.socket).toBe(put.socket);
      expect(seen.map((e) => e.id)).toEqual([event.id]);
    } finally {
      agent.destroy();
    }
  });
});
