import "reflect-metadata";
import type { AddressInfo } from "node:net";
import { Body, Controller, type INestApplication, Inject, Module, Post } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import { ExpressAdapter, type NestExpressApplication } from "@nestjs/platform-express";
import { FastifyAdapter } from "@nestjs/platform-fastify";
import { createWebhooks, sign, type WebhookEvent, type Webhooks } from "@optare/webhooks";
import { OPTARE_WEBHOOKS, OptareWebhooksModule } from "@optare/webhooks-nestjs";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import express from "express";
import { afterEach, describe, expect, it } from "vitest";

// Real Nest apps on both platforms, served on loopback. Decorators are applied as calls, as in the module,
// so neither the root typecheck nor vitest needs `experimentalDecorators`.
const secret = "0123456789abcdef".repeat(4);
const apps: INestApplication[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** `POST /json` answers the JSON body it parsed: the app's other routes keep Nest's body parser. */
class JsonController {
  echo(body: unknown) {
    return { parsed: body };
  }
}
Body()(JsonController.prototype, "echo", 0);
Post("json")(
  JsonController.prototype,
  "echo",
  Object.getOwnPropertyDescriptor(JsonController.prototype, "echo")!,
);
Controller()(JsonController);

function receiver() {
  const seen: WebhookEvent[] = [];
  const errors: string[] = [];
  const webhooks = createWebhooks({ secret, logger: false })
    .onAny((event) => {
      seen.push(event);
    })
    .onError((error) => {
      errors.push(error.code);
    });
  return { webhooks, seen, errors };
}

const platforms = {
  express: () => new ExpressAdapter(),
  fastify: () => new FastifyAdapter(),
};
type Platform = keyof typeof platforms;

async function serve(
  platform: Platform,
  imports: NonNullable<Parameters<typeof Module>[0]>["imports"],
  options: { rawBody?: boolean; bodyParser?: boolean } = { rawBody: true },
  prepare: (app: INestApplication) => void = () => {},
): Promise<string> {
  class AppModule {}
  Module({ imports, controllers: [JsonController] })(AppModule);
  const app = await NestFactory.create(AppModule, platforms[platform](), { logger: false, ...options });
  apps.push(app);
  prepare(app);
  await app.listen(0, "127.0.0.1");
  return `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
}

/** A signed body whose layout (spacing, key order, escapes) any re-serialisation would change. */
function oddlySigned(event: WebhookEvent) {
  const body = `{ "id":"${event.id}",\n  "event" : "${event.event}", "timestamp":"${event.timestamp}",
    "organization": ${JSON.stringify(event.organization)}, "data": ${JSON.stringify(event.data, null, 3)},
    "note": "caf\\u00e9 — ☕" }`;
  return { body, headers: { "content-type": "application/json", "x-optare-signature": sign(body, secret) } };
}

describe.each(["express", "fastify"] as const)("OptareWebhooksModule on the %s platform", (platform) => {
  it("processes a signed delivery from its exact raw bytes (rawBody: true), refuses a tampered one", async () => {
    const { webhooks, seen } = receiver();
    const url = await serve(platform, [OptareWebhooksModule.forRoot({ webhooks })]);
    const event = createEvent("user.created");
    const { body, headers } = oddlySigned(event);
    const res = await fetch(`${url}/webhooks/optare`, { method: "POST", body, headers });
    expect([res.status, res.headers.get("content-type"), await res.json()]).toEqual([
      200,
      "application/json",
      { received: true },
    ]);
    expect(seen.map((e) => e.id)).toEqual([event.id]);
    const tampered = await fetch(`${url}/webhooks/optare`, {
      method: "POST",
      body: body.replace("john@example.com", "eve@example.com"),
      headers,
    });
    expect([tampered.status, (await tampered.json()).error.code]).toEqual([401, "signature_mismatch"]);
    expect(seen).toHaveLength(1);
  });

  it("answers GET with the core's 405 and Allow: POST", async () => {
    const url = await serve(platform, [OptareWebhooksModule.forRoot({ webhooks: receiver().webhooks })]);
    const res = await fetch(`${url}/webhooks/optare`);
    expect([res.status, res.headers.get("allow"), (await res.json()).error.code]).toEqual([
      405,
      "POST",
      "method_not_allowed",
    ]);
  });

  it("leaves the app's other JSON routes parsing JSON", async () => {
    const url = await serve(platform, [OptareWebhooksModule.forRoot({ webhooks: receiver().webhooks })]);
    const res = await fetch(`${url}/json`, {
      method: "POST",
      body: JSON.stringify({ hello: "world" }),
      headers: { "content-type": "application/json" },
    });
    expect([res.status, await res.json()]).toEqual([201, { parsed: { hello: "world" } }]);
  });

  it("answers 500 raw_body_required, saying what to change, when Nest kept no raw body", async () => {
    const { webhooks, seen, errors } = receiver();
    const url = await serve(platform, [OptareWebhooksModule.forRoot({ webhooks })], {});
    const { body, headers } = signEvent(createEvent("user.created"), secret);
    const res = await fetch(`${url}/webhooks/optare`, { method: "POST", body, headers });
    const { error } = (await res.json()) as { error: { code: string; message: string } };
    expect([res.status, error.code]).toEqual([500, "raw_body_required"]);
    expect(error.message).toContain("NestFactory.create(AppModule, { rawBody: true })");
    expect(seen).toEqual([]);
    expect(errors).toEqual(["raw_body_required"]);
  });

  it("takes the webhooks from forRootAsync's factory, at the path given, injectable elsewhere", async () => {
    const { webhooks, seen } = receiver();
    class Config {
      webhooks = webhooks;
    }
    class ConfigModule {}
    Module({ providers: [Config], exports: [Config] })(ConfigModule);
    let injected: unknown;
    class Handlers {
      constructor(w: Webhooks) {
        injected = w;
      }
    }
    Inject(OPTARE_WEBHOOKS)(Handlers, undefined, 0);
    class HandlersModule {}
    const root = OptareWebhooksModule.forRootAsync({
      path: "hooks/optare",
      imports: [ConfigModule],
      inject: [Config],
      useFactory: async (config: Config) => config.webhooks,
    });
    Module({ imports: [root], providers: [Handlers] })(HandlersModule);
    const url = await serve(platform, [HandlersModule]);
    const event = createEvent("member.added");
    const res = await fetch(`${url}/hooks/optare`, { method: "POST", ...signEvent(event, secret) });
    expect(res.status).toBe(200);
    expect(seen.map((e) => e.id)).toEqual([event.id]);
    expect(injected).toBe(webhooks);
  });
});

describe("OptareWebhooksModule on Express with the webhook path left out of the JSON parser", () => {
  it("streams the body to the core, which makes every decision (400, 413, 200)", async () => {
    const { webhooks, seen } = receiver();
    const json = express.json();
    const url = await serve(
      "express",
      [OptareWebhooksModule.forRoot({ webhooks })],
      { bodyParser: false },
      (app) =>
        app.use((req: express.Request, res: express.Response, next: express.NextFunction) =>
          req.path === "/webhooks/optare" ? next() : json(req, res, next),
        ),
    );
    const post = (body: string) =>
      fetch(`${url}/webhooks/optare`, { method: "POST", body, headers: signEvent(body, secret).headers });
    const malformed = await post('{"event":');
    expect([malformed.status, (await malformed.json()).error.code]).toEqual([400, "invalid_json"]);
    const large = await post(" ".repeat(1024 * 1024 + 1));
    expect([large.status, (await large.json()).error.code]).toEqual([413, "payload_too_large"]);
    const event = createEvent("user.created");
    const { body, headers } = oddlySigned(event);
    expect((await fetch(`${url}/webhooks/optare`, { method: "POST", body, headers })).status).toBe(200);
    expect(seen.map((e) => e.id)).toEqual([event.id]);
    const other = await fetch(`${url}/json`, {
      method: "POST",
      body: '{"a":1}',
      headers: { "content-type": "application/json" },
    });
    expect(await other.json()).toEqual({ parsed: { a: 1 } });
  });
});

describe("OptareWebhooksModule on Express with rawBody: true and a raised JSON limit", () => {
  it("verifies a delivery over body-parser's 100 kB default after app.useBodyParser('json', { limit })", async () => {
    const { webhooks, seen } = receiver();
    const event = { ...createEvent("user.created"), padding: "x".repeat(200_000) };
    const deliver = async (url: string) =>
      (await fetch(`${url}/webhooks/optare`, { method: "POST", ...signEvent(event, secret) })).status;
    const imports = [OptareWebhooksModule.forRoot({ webhooks })];
    expect(await deliver(await serve("express", imports))).toBe(413); // Nest's parser, not the core
    const raised = await serve("express", imports, { rawBody: true }, (app) =>
      (app as NestExpressApplication).useBodyParser("json", { limit: "1mb" }),
    );
    expect(await deliver(raised)).toBe(200);
    expect(seen.map((e) => e.id)).toEqual([event.id]);
  });
});
