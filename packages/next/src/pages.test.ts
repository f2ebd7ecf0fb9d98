import { once } from "node:events";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type BodySource,
  createWebhooks,
  isWebhookError,
  WebhookError,
  type WebhookReply,
  type WebhookRequest,
} from "@optare/webhooks";
import type { NodeRequest } from "@optare/webhooks/node";
import { createPagesHandler } from "@optare/webhooks-next/pages";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { afterEach, describe, expect, it } from "vitest";

// The first block's receiver is a recording stand-in for `createWebhooks(…)`: it checks the transport
// alone (Node request → `receive` input, reply → Node response) over a real Node HTTP server.
type Seen = { input: WebhookRequest; body?: Uint8Array; error?: unknown };

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

async function serve(
  answer: (input: WebhookRequest, seen: Seen) => Promise<WebhookReply>,
  prepare: (req: NodeRequest) => unknown = () => {},
) {
  const seen: Seen[] = [];
  const handler = createPagesHandler({
    receive: (input) => {
      const entry: Seen = { input };
      seen.push(entry);
      return answer(input, entry);
    },
  });
  server = createServer((req: NodeRequest, res) => {
    void Promise.resolve(prepare(req)).then(() => handler(req, res));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/webhooks/optare`, seen };
}

/** The body's bytes: given whole, or read chunk by chunk (a stream must be read to the end). */
async function bytesOf(body: BodySource): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return body;
  const chunks: Uint8Array[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array>) chunks.push(chunk);
  return new Uint8Array(Buffer.concat(chunks));
}

function reply(status: number, body = ""): WebhookReply {
  return { status, headers: {}, body };
}

/** Reads the whole body, recording bytes or the read error; answers 200 or the error's status. */
async function readAll(input: WebhookRequest, seen: Seen): Promise<WebhookReply> {
  try {
    if (input.bodyConsumed !== undefined) throw new WebhookError("raw_body_required", input.bodyConsumed);
    seen.body = await bytesOf(input.body);
    return reply(200, "ok");
  } catch (error) {
    seen.error = error;
    return reply(isWebhookError(error) ? error.status : 400);
  }
}

/** What Next.js's default API body parser does: read the stream to its end, then set `req.body`. */
async function parseBodyLikeNext(req: NodeRequest & { body?: unknown }) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk);
  req.body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
}

describe("createPagesHandler", () => {
  it("hands the core the method, headers and exact raw bytes", async () => {
    const { url, seen } = await serve(readAll);
    const bytes = new Uint8Array([0x7b, 0x20, 0xff, 0xfe, 0x00, 0x0a, 0x7d]); // not valid UTF-8 on purpose
    const response = await fetch(url, {
      method: "POST",
      body: bytes,
      headers: { "x-optare-signature": "ab".repeat(32), "content-type": "application/json" },
    });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(1);
    const { input, body } = seen[0]!;
    expect(input.method).toBe("POST");
    expect(input.header("x-optare-signature")).toBe("ab".repeat(32));
    expect(input.header("content-length")).toBe(String(bytes.length));
    expect(body).toEqual(bytes);
  });

  it("streams large bodies through intact", async () => {
    const { url, seen } = await serve(readAll);
    const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) % 251);
    const response = await fetch(url, { method: "POST", body: bytes });
    expect(response.status).toBe(200);
    expect(Buffer.from(seen[0]!.body!).equals(bytes)).toBe(true); // toEqual on 3 MiB is needlessly slow
  });

  it("hands GET to the core, which makes the 405 decision", async () => {
    const { url, seen } = await serve(async (input) => reply(input.method === "POST" ? 200 : 405));
    expect((await fetch(url)).status).toBe(405);
    expect(seen[0]!.input.method).toBe("GET");
  });

  it("writes the core's status, headers and body", async () => {
    const { url } = await serve(async () => ({
      status: 409,
      headers: { "content-type": "application/json", "retry-after": "7" },
      body: '{"error":{"code":"x"}}',
    }));
    const response = await fetch(url, { method: "POST", body: "{}" });
    expect(response.status).toBe(409);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("retry-after")).toBe("7");
    expect(await response.text()).toBe('{"error":{"code":"x"}}');
  });

  it("lets the core answer before it has read the whole body, on the open socket", async () => {
    const { url, seen } = await serve(async (input) => {
      await (input.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]().next(); // "exceeds the limit"
      return reply(413);
    });
    const req = httpRequest(url, { method: "POST", headers: { "transfer-encoding": "chunked" } });
    req.on("error", () => {}); // the server may stop reading the unfinished body
    req.write("x".repeat(64 * 1024));
    const [response] = (await once(req, "response")) as [IncomingMessage];
    expect(response.statusCode).toBe(413);
    req.destroy();
    expect(seen).toHaveLength(1);
  });

  it("turns a client that disconnects mid-body into a body read error, not a hang", async () => {
    const { url, seen } = await serve(readAll);
    const req = httpRequest(url, { method: "POST", headers: { "content-length": "1000" } });
    req.on("error", () => {});
    req.write("x".repeat(10));
    await new Promise((resolve) => setTimeout(resolve, 50));
    req.destroy();
    await expect.poll(() => seen[0]?.error, { timeout: 2000 }).toBeInstanceOf(Error);
    expect(seen[0]!.body).toBeUndefined();
  });

  it("refuses a body Next.js already parsed with raw_body_required, never re-serialising it", async () => {
    const { url, seen } = await serve(readAll, parseBodyLikeNext);
    const response = await fetch(url, { method: "POST", body: '{"event":"user.created"}' });
    expect(response.status).toBe(500);
    const error = seen[0]!.error;
    expect(isWebhookError(error) && error.code).toBe("raw_body_required");
    expect((error as Error).message).toContain("export const config = { api: { bodyParser: false } }");
  });

  it("refuses a body stream something else already consumed instead of waiting forever", async () => {
    const { url, seen } = await serve(readAll, (req) => {
      req.resume(); // drained by an earlier middleware
      return once(req, "end");
    });
    const response = await fetch(url, { method: "POST", body: "{}" });
    expect(response.status).toBe(500);
    expect(isWebhookError(seen[0]!.error) && seen[0]!.error.code).toBe("raw_body_required");
  });
});

describe("createPagesHandler with createWebhooks", () => {
  const secret = "0123456789abcdef".repeat(4);

  async function serveCore(prepare?: (req: NodeRequest) => unknown) {
    const processed: string[] = [];
    const webhooks = createWebhooks({ secret, maxBodyBytes: 64 * 1024 });
    webhooks.onAny((event) => void processed.push(event.id));
    const { url } = await serve((input) => webhooks.receive(input), prepare);
    let closed = 0;
    server!.on("connection", (socket) => socket.on("close", () => closed++));
    return { url, processed, closedConnections: () => closed };
  }

  it("processes a signed delivery once and acknowledges its duplicate", async () => {
    const { url, processed } = await serveCore();
    const event = createEvent("user.created");
    const { body, headers } = signEvent(event, secret);
    const first = await fetch(url, { method: "POST", body, headers });
    expect([first.status, await first.json()]).toEqual([200, { received: true }]);
    expect((await fetch(url, { method: "POST", body, headers })).status).toBe(200);
    expect(processed).toEqual([event.id]);
  });

  it("rejects a tampered body with 401", async () => {
    const { url, processed } = await serveCore();
    const { body, headers } = signEvent(createEvent("user.created"), secret);
    const response = await fetch(url, { method: "POST", body: body.replace("john@", "evil@"), headers });
    expect(response.status).toBe(401);
    expect(processed).toEqual([]);
  });

  it("answers the core's 413 to a chunked body that grows past the limit, over a still-open socket", async () => {
    const { url } = await serveCore();
    const req = httpRequest(url, { method: "POST", headers: { "transfer-encoding": "chunked" } });
    req.on("error", () => {});
    for (let i = 0; i < 3; i++) req.write("x".repeat(32 * 1024));
    const [response] = (await once(req, "response")) as [IncomingMessage];
    expect(response.statusCode).toBe(413);
    req.destroy();
  });

  it("keeps the kept-alive connection usable after refusing a body unread (413 on Content-Length)", async () => {
    const { url, closedConnections } = await serveCore();
    for (let i = 0; i < 3; i++) {
      const tooLarge = await fetch(url, { method: "POST", body: "x".repeat(2 * 1024 * 1024) });
      expect([tooLarge.status, await tooLarge.text()]).toEqual([
        413,
        expect.stringContaining("payload_too_large"),
      ]);
      // Reuses the pooled connection: it stalls, then resets, if the unread body was never discarded.
      const next = await fetch(url, { method: "POST", body: "{}" });
      expect([next.status, await next.text()]).toEqual([401, expect.stringContaining("signature_missing")]);
    }
    expect(closedConnections()).toBe(0); // the server never gave up on a connection
  });

  it("answers 405 with Allow: POST to GET", async () => {
    const { url } = await serveCore();
    const response = await fetch(url);
    expect([response.status, response.headers.get("allow")]).toEqual([405, "POST"]);
  });

  it("answers raw_body_required with the core's status when the body parser ran", async () => {
    const { url, processed } = await serveCore(parseBodyLikeNext);
    const { body, headers } = signEvent(createEvent("user.created"), secret);
    const response = await fetch(url, { method: "POST", body, headers });
    const answer = (await response.json()) as { error: { code: string; message: string } };
    expect([response.status, answer.error.code]).toEqual([500, "raw_body_required"]);
    expect(answer.error.message).toContain("export const config = { api: { bodyParser: false } }");
    expect(processed).toEqual([]);
  });

  it("answers TRACE (a method a Web Request cannot carry) with the core's 405 instead of crashing", async () => {
    const { url } = await serveCore();
    const req = httpRequest(url, { method: "TRACE" });
    req.end();
    const [response] = (await once(req, "response")) as [IncomingMessage];
    let body = "";
    for await (const chunk of response) body += chunk;
    expect([response.statusCode, response.headers.allow]).toEqual([405, "POST"]);
    expect(JSON.parse(body).error.code).toBe("method_not_allowed");
  });
});
