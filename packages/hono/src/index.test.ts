import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { type ServerType, serve } from "@hono/node-server";
import { createWebhooks, type HandleContext, type WebhookEvent } from "@optare/webhooks";
import { bytes, digest, request } from "@optare/webhooks/test-http";
import { createWebhookHandler } from "@optare/webhooks-hono";
import { cooperate, createEvent, runConformance, signEvent } from "@optare/webhooks-testing";
import { build } from "esbuild";
import { Hono } from "hono";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const secret = "0123456789abcdef".repeat(4);
/** Settings of the workerd test worker (test-worker.ts), passed to it as text bindings. */
const ACK_TIMEOUT_MS = 1000;
const SLOW_EVENT_TYPE = "test.slow";

// The same adapter in two runtimes: a real Hono app served on Node.js by @hono/node-server over loopback,
// and a Hono app bundled as a Cloudflare Worker and served by the real `workerd` runtime (a Web-standard
// runtime: no `node:*` modules, the core's Web build, Web Crypto, the platform's own `waitUntil`).

describe("createWebhookHandler on Node.js (@hono/node-server)", () => {
  const servers: ServerType[] = [];
  afterEach(async () => {
    await Promise.all(
      servers.splice(0).map((server) => new Promise((resolve) => server.close(() => resolve(null)))),
    );
  });

  async function listen(app: Hono): Promise<string> {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    servers.push(server);
    if (!server.listening) await new Promise((resolve) => server.once("listening", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  function receiver(options: { maxBodyBytes?: number; ackTimeoutMs?: number } = {}) {
    const seen: WebhookEvent[] = [];
    const webhooks = createWebhooks({ secret, maxBodyBytes: 64 * 1024, logger: false, ...options });
    webhooks.onAny((event) => void seen.push(event));
    return { webhooks, seen };
  }

  it("hands the core the route's own Request, with the exact body bytes, and returns its Response", async () => {
    const reached: { request: Request; raw: Request; context?: HandleContext }[] = [];
    const answer = new Response("from the core", { status: 418, headers: { "x-core": "yes" } });
    const app = new Hono();
    app.all("/hook", (c) =>
      createWebhookHandler({
        handle: async (request, context) => {
          reached.push({ request, raw: c.req.raw, context });
          const body = new Uint8Array(await request.arrayBuffer());
          const sha256 = Buffer.from(await crypto.subtle.digest("SHA-256", body)).toString("hex");
          answer.headers.set("x-sha256", sha256);
          return answer;
        },
      })(c),
    );
    const url = await listen(app);
    const res = await request(`${url}/hook`, {
      headers: { "content-type": "application/json", "x-optare-signature": "sig" },
      chunks: [bytes.subarray(0, 3), bytes.subarray(3)],
    });
    expect([res.status, res.body, res.headers["x-core"], res.headers["x-sha256"]]).toEqual([
      418,
      "from the core",
      "yes",
      digest,
    ]);
    expect(reached[0]!.request).toBe(reached[0]!.raw); // c.req.raw itself, not a copy
    expect(reached[0]!.request.headers.get("x-optare-signature")).toBe("sig");
    expect(reached[0]!.context).toEqual({ waitUntil: undefined }); // Node.js: no execution context
  });

  it("verifies and processes a signed delivery, once; refuses a tampered one; JSON routes still parse", async () => {
    const { webhooks, seen } = receiver();
    const app = new Hono();
    app.all("/webhooks/optare", createWebhookHandler(webhooks));
    app.post("/api/items", async (c) => c.json({ parsed: await c.req.json() }));
    const url = await listen(app);
    const event = createEvent("user.created");
    const { body, headers } = signEvent(event, secret);
    const first = await fetch(`${url}/webhooks/optare`, { method: "POST", body, headers });
    expect([first.status, await first.json()]).toEqual([200, { received: true }]);
    const again = await fetch(`${url}/webhooks/optare`, { method: "POST", body, headers });
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    const tampered = await fetch(`${url}/webhooks/optare`, { method: "POST", body: `${body} `, headers });
    expect(tampered.status).toBe(401);
    expect(seen.map((e) => e.id)).toEqual([event.id]);
    const items = await fetch(`${url}/api/items`, { method: "POST", body: '{"a":1}', headers });
    expect(await items.json()).toEqual({ parsed: { a: 1 } });
  });

  it("answers GET with the core's 405 and Allow: POST when mounted with app.all", async () => {
    const app = new Hono();
    app.all("/webhooks/optare", createWebhookHandler(receiver().webhooks));
    const url = await listen(app);
    const res = await fetch(`${url}/webhooks/optare`);
    expect([res.status, res.headers.get("allow")]).toEqual([405, "POST"]);
  });

  it("answers the core's 413 to a streamed body over the limit, and keeps the connection usable", async () => {
    const app = new Hono();
    app.all("/webhooks/optare", createWebhookHandler(receiver().webhooks));
    const url = await listen(app);
    let closed = 0;
    servers[0]!.on("connection", (socket) => socket.on("close", () => closed++));
    for (let i = 0; i < 3; i++) {
      const tooLarge = await fetch(`${url}/webhooks/optare`, {
        method: "POST",
        body: "x".repeat(256 * 1024),
      });
      expect([tooLarge.status, await tooLarge.text()]).toEqual([
        413,
        expect.stringContaining("payload_too_large"),
      ]);
      const next = await fetch(`${url}/webhooks/optare`, { method: "POST", body: "{}" });
      expect([next.status, await next.text()]).toEqual([401, expect.stringContaining("signature_missing")]);
    }
    expect(closed).toBe(0);
  });

  it("answers 500 raw_body_required at once when a middleware read the body first, and runs no handler", async () => {
    const { webhooks, seen } = receiver();
    const errors: string[] = [];
    webhooks.onError((error) => void errors.push(error.code));
    const app = new Hono();
    app.use("/webhooks/*", async (c, next) => {
      await c.req.json(); // what a validator or a logging middleware might do
      await next();
    });
    app.all("/webhooks/optare", createWebhookHandler(webhooks));
    const url = await listen(app);
    const { body, headers } = signEvent(createEvent("user.created"), secret);
    const res = await fetch(`${url}/webhooks/optare`, { method: "POST", body, headers });
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, error.code]).toEqual([500, "raw_body_required"]);
    expect(seen).toEqual([]);
    expect(errors).toEqual(["raw_body_required"]);
  });

  it("passes the kit's black-box and cooperative checks (ack deadline included)", async () => {
    const { webhooks } = receiver({ maxBodyBytes: 1024 * 1024, ackTimeoutMs: 500 });
    const cooperative = cooperate(webhooks);
    const app = new Hono();
    app.all("/webhooks/optare", createWebhookHandler(webhooks));
    const url = await listen(app);
    const report = await runConformance({
      url: `${url}/webhooks/optare`,
      secret,
      cooperative,
      ackTimeoutMs: 500,
    });
    expect(report.checks.filter((check) => !check.passed)).toEqual([]);
    expect(report.checks.length).toBeGreaterThan(30);
  }, 30_000);

  it("takes waitUntil from c.executionCtx where there is one, and a given context over it", async () => {
    const reached: (HandleContext | undefined)[] = [];
    const core = {
      handle: async (_: Request, context?: HandleContext) => {
        reached.push(context);
        return new Response(null, { status: 204 });
      },
    };
    const given = { waitUntil: (_: Promise<unknown>) => {} };
    const app = new Hono();
    app.post("/platform", createWebhookHandler(core));
    app.post("/given", createWebhookHandler(core, given));
    const waited: Promise<unknown>[] = [];
    const executionCtx = {
      waitUntil: (p: Promise<unknown>) => void waited.push(p),
      passThroughOnException() {},
      props: {},
    };
    const post = (path: string) =>
      app.fetch(new Request(`http://x${path}`, { method: "POST" }), {}, executionCtx);
    expect((await post("/platform")).status).toBe(204);
    expect((await post("/given")).status).toBe(204);
    const fromPlatform = reached[0]!.waitUntil!;
    const late = Promise.resolve("late");
    fromPlatform(late);
    expect(waited).toEqual([late]); // forwarded to the platform's own waitUntil
    expect(reached[1]).toBe(given);
  });
});

/** The real workerd binary (the `workerd` package's main export is its path). */
const workerdBinary = (createRequire(import.meta.url)("workerd") as { default: string }).default;

describe("createWebhookHandler on Cloudflare's workerd runtime (a Web-standard runtime)", () => {
  let dir: string;
  let child: ChildProcess;
  let output = "";
  let url: string;
  let bundled: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "optare-hono-workerd-"));
    // Bundled as Wrangler would: Workers conditions, the core's Web build (crypto-node → crypto-web).
    const bundle = await build({
      entryPoints: [fileURLToPath(new URL("./test-worker.ts", import.meta.url))],
      bundle: true,
      write: false,
      format: "esm",
      platform: "browser",
      conditions: ["workerd", "worker", "browser"],
      external: ["cloudflare:workers"],
      logLevel: "silent",
      plugins: [
        {
          name: "web-crypto",
          setup(b) {
            b.onResolve({ filter: /\/crypto-node$/ }, () => ({
              path: fileURLToPath(new URL("../../webhooks/src/crypto-web.ts", import.meta.url)),
            }));
            b.onResolve({ filter: /^node:/ }, (args) => ({ errors: [{ text: `imports ${args.path}` }] }));
          },
        },
      ],
    });
    bundled = bundle.outputFiles[0]!.text;
    writeFileSync(join(dir, "worker.js"), bundled);
    writeFileSync(
      join(dir, "config.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2025-09-01",
  bindings = [
    (name = "OPTARE_WEBHOOK_SECRET", text = "${secret}"),
    (name = "ACK_TIMEOUT_MS", text = "${ACK_TIMEOUT_MS}"),
    (name = "SLOW_EVENT_TYPE", text = "${SLOW_EVENT_TYPE}"),
  ],
);
`,
    );
    // The port workerd picked comes on its control fd (3), as a JSON line: {"event":"listen","port":…}.
    child = spawn(workerdBinary, ["serve", join(dir, "config.capnp"), "--control-fd=3"], {
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    child.stdout!.on("data", (chunk) => (output += chunk));
    child.stderr!.on("data", (chunk) => (output += chunk));
    const port = await new Promise<number>((resolve, reject) => {
      let control = "";
      (child.stdio[3] as Readable).on("data", (chunk) => {
        control += chunk;
        const match = /"event":"listen","socket":"http","port":(\d+)/.exec(control);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`workerd exited with ${code}:\n${output}`)));
    });
    url = `http://127.0.0.1:${port}`;
  }, 30_000);

  afterAll(() => {
    child?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const post = (delivery: { body: string; headers: Record<string, string> }) =>
    fetch(`${url}/webhooks/optare`, { method: "POST", ...delivery });
  const listed = async () => (await (await fetch(`${url}/events`)).json()) as string[];

  it("runs in workerd without Node.js: no node:* import, no `process`", async () => {
    // The esbuild plugin above also fails the build on any node:* import.
    expect(bundled).not.toMatch(/\bfrom\s*"node:|\brequire\(/);
    const runtime = await (await fetch(`${url}/runtime`)).json();
    expect(runtime).toEqual({ userAgent: "Cloudflare-Workers", process: "undefined" });
  });

  it("verifies and processes a signed delivery, once; refuses a tampered one; JSON routes still parse", async () => {
    const event = createEvent("member.added");
    const delivery = signEvent(event, secret);
    const first = await post(delivery);
    expect([first.status, await first.json()]).toEqual([200, { received: true }]);
    const again = await post(delivery);
    expect(await again.json()).toEqual({ received: true, duplicate: true });
    const tampered = await post({ ...delivery, body: delivery.body.replace("john@", "evil@") });
    expect(tampered.status).toBe(401);
    expect((await listed())[0]).toBe(event.id);
    const echo = await fetch(`${url}/api/echo`, { method: "POST", body: '{"a":1}' });
    expect(await echo.json()).toEqual({ parsed: { a: 1 } });
  });

  it("lets a handler past the ack deadline finish through the Worker's waitUntil (503 + Retry-After, then done)", async () => {
    const event = {
      ...createEvent("user.created"),
      event: SLOW_EVENT_TYPE,
      data: { ms: ACK_TIMEOUT_MS + 1000 },
    };
    const delivery = signEvent(event, secret);
    const res = await post(delivery);
    expect([res.status, res.headers.get("retry-after")]).toEqual([503, expect.stringMatching(/^\d+$/)]);
    expect(await listed()).not.toContain(event.id);
    // workerd cancels a request's unfinished work once its response is sent, unless it was handed to
    // ctx.waitUntil: the id is listed only because the adapter passed the Worker's waitUntil to the core.
    const deadline = Date.now() + 3000;
    while (!(await listed()).includes(event.id) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await listed()).toContain(event.id);
    const retry = await post(delivery);
    expect(await retry.json()).toEqual({ received: true, duplicate: true });
  }, 15_000);

  it("passes the conformance kit driven by the reference sender", async () => {
    const report = await runConformance({ url: `${url}/webhooks/optare`, secret });
    expect(report.checks.filter((check) => !check.passed)).toEqual([]);
    expect(report.checks.length).toBeGreaterThan(30);
  }, 60_000);
});
