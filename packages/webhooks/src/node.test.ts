// The Node `http` transport on its own: plain `node:http` servers, real sockets on loopback. The first
// block replaces the core by small `receive` functions (what reaches `receive`, what gets written back);
// the second runs the real core. The adapters' tests cover only what their framework adds.
import { createHash } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { afterEach, describe, expect, it } from "vitest";
import type { WebhookEvent } from "./event";
import { createNodeHandler } from "./node";
import { createWebhooks } from "./receiver";
import { bytes, closeServers, digest, echo, json, listen, request } from "./test-http";

afterEach(closeServers);

describe("createNodeHandler", () => {
  it("streams the exact raw bytes, the method and the headers to receive()", async () => {
    const url = await listen(createNodeHandler(echo));
    const res = await fetch(`${url}/hook`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-optare-signature": "ab".repeat(32) },
      body: bytes,
    });
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
    const handle = createNodeHandler(echo);
    const url = await listen((req, res) => {
      const on = req.on;
      req.on = function (this: typeof req, event: string | symbol, listener: (...args: unknown[]) => void) {
        if (event === "readable") readableListeners++;
        return on.call(this, event, listener);
      } as typeof req.on;
      void handle(req, res);
    });
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
    const url = await listen(createNodeHandler(echo));
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
    const res = await request(`${url}/hook`, { chunks });
    expect(JSON.parse(res.body)).toMatchObject({
      source: "stream",
      length: 500_000,
      sha256: createHash("sha256").update(Buffer.concat(chunks)).digest("hex"),
    });
  });

  it("writes back the status, every header and the body of the reply", async () => {
    const url = await listen(
      createNodeHandler({
        async receive() {
          return {
            status: 409,
            headers: { "retry-after": "7", "content-type": "application/json", "x-a": "1" },
            body: '{"error":{"code":"event_in_progress"}}',
          };
        },
      }),
    );
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
    const methods: string[] = [];
    const url = await listen(
      createNodeHandler({
        async receive(input) {
          methods.push(input.method);
          return { status: 405, headers: { allow: "POST" }, body: "" };
        },
      }),
    );
    const res = await request(`${url}/hook`, { method: "GET" });
    expect([res.status, res.headers.allow, methods]).toEqual([405, "POST", ["GET"]]);
  });

  it("writes the reply while the body is still unread, on the open socket", async () => {
    const url = await listen(
      createNodeHandler({
        async receive(input) {
          const chunks = (input.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
          await chunks.next(); // one chunk, then answer without reading on or closing the stream
          return json({ error: { code: "payload_too_large" } }, 413);
        },
      }),
    );
    const req = http.request(`${url}/hook`, { method: "POST", headers: { "transfer-encoding": "chunked" } });
    req.on("error", () => {}); // the server may stop reading the unfinished body
    req.write(Buffer.alloc(64 * 1024, 97));
    const [res] = (await once(req, "response")) as [http.IncomingMessage];
    expect(res.statusCode).toBe(413);
    req.destroy();
  });

  it("uses the bytes an adapter's rawBody() found, and says the body was consumed when it returns false", async () => {
    const kept = Buffer.from("kept by a parser");
    const withBytes = await listen(createNodeHandler(echo, { rawBody: () => kept }));
    const res = await request(`${withBytes}/hook`, { chunks: [bytes] });
    expect(JSON.parse(res.body)).toMatchObject({ source: "bytes", length: kept.length });

    const seen: (string | undefined)[] = [];
    const consumed = await listen(
      createNodeHandler(
        {
          async receive(input) {
            seen.push(input.bodyConsumed);
            return json({}, 500);
          },
        },
        { rawBody: () => false, consumedBodyMessage: "a parser ate it" },
      ),
    );
    await request(`${consumed}/hook`, { chunks: [bytes] });
    expect(seen).toEqual(["a parser ate it"]);
  });

  it("says the body was consumed when something read the stream to its end first, whatever the framework", async () => {
    const seen: { consumed?: string; body: unknown }[] = [];
    const handle = createNodeHandler({
      async receive(input) {
        seen.push({ consumed: input.bodyConsumed, body: input.body });
        return json({}, 500);
      },
    });
    const url = await listen((req, res) => {
      req.resume();
      req.on("end", () => void handle(req, res));
    });
    const res = await request(`${url}/hook`, { chunks: [bytes] }); // would hang if it waited on the stream
    expect(res.status).toBe(500);
    expect(seen).toEqual([{ consumed: expect.stringMatching(/consumed before/), body: null }]);
  });
});

describe("createNodeHandler: the body-read deadline", () => {
  function slowBody(url: string, sendEveryMs: number, chunks: number) {
    return new Promise<{ status: number; body: string; connection?: string; closedAt: number; sent: number }>(
      (resolve, reject) => {
        let sent = 0;
        const req = http.request(`${url}/hook`, { method: "POST", headers: { "content-length": "1000" } });
        const timer = setInterval(() => {
          if (sent < chunks) {
            req.write("x");
            sent++;
          }
        }, sendEveryMs);
        req.on("response", (res) => {
          let body = "";
          res.on("data", (chunk) => (body += chunk));
          res.on("end", () => {
            clearInterval(timer);
            resolve({
              status: res.statusCode!,
              body,
              connection: res.headers.connection,
              closedAt: sent,
              sent,
            });
          });
        });
        req.on("error", (error) => {
          clearInterval(timer);
          reject(error);
        });
        req.flushHeaders();
      },
    );
  }

  it("answers 408 request_timeout to a body still incomplete at the deadline, and closes the connection", async () => {
    const webhooks = createWebhooks({ secret: "0123456789abcdef".repeat(4), logger: false });
    const url = await listen(createNodeHandler(webhooks, { bodyTimeoutMs: 300 }));
    // 1 byte every 20 ms of a declared 1000: a slowloris that would otherwise hold the socket for minutes.
    const res = await slowBody(url, 20, 1000);
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body).error.code).toBe("request_timeout");
    expect(res.connection).toBe("close");
    expect(res.sent).toBeLessThan(1000); // answered before the body could have finished
  });

  it("defaults to a deadline of 10 s and refuses a nonsensical one at start-up", () => {
    expect(() => createNodeHandler(echo, { bodyTimeoutMs: Number.NaN })).toThrow(/bodyTimeoutMs must be/);
    expect(() => createNodeHandler(echo, { bodyTimeoutMs: 0 })).toThrow(/bodyTimeoutMs/);
  });

  it("does not cut off a body that keeps arriving within the deadline", async () => {
    const url = await listen(createNodeHandler(echo, { bodyTimeoutMs: 2_000 }));
    const chunks = Array.from({ length: 5 }, (_, i) => Buffer.alloc(100, i));
    const answered = new Promise<string>((resolve, reject) => {
      const req = http.request(`${url}/hook`, { method: "POST", headers: { "content-length": "500" } });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => resolve(body));
      });
      req.on("error", reject);
      let i = 0;
      const timer = setInterval(() => {
        req.write(chunks[i++]!);
        if (i === chunks.length) {
          clearInterval(timer);
          req.end();
        }
      }, 30);
    });
    expect(JSON.parse(await answered)).toMatchObject({ source: "stream", length: 500 });
  });
});

describe("createNodeHandler with the real core", () => {
  const secret = "0123456789abcdef".repeat(4);

  function receiver() {
    const seen: WebhookEvent[] = [];
    const webhooks = createWebhooks({ secret, maxBodyBytes: 64 * 1024, logger: false }).onAny((event) => {
      seen.push(event);
    });
    return { handler: createNodeHandler(webhooks), seen };
  }

  it("answers the core's 413 to an oversized body, declared or streamed, on one connection", async () => {
    const url = await listen(receiver().handler);
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
    const { handler, seen } = receiver();
    const url = await listen(handler);
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

  it("answers 405 to a PUT with a body and keeps the kept-alive connection usable", async () => {
    const { handler, seen } = receiver();
    const url = await listen(handler);
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
