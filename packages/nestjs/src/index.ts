import type { IncomingMessage, ServerResponse } from "node:http";
import * as nest from "@nestjs/common";
import type { Webhooks } from "@optare/webhooks";
import { createNodeHandler } from "@optare/webhooks/node";

/** Injection token of the module's `webhooks`: inject it to register handlers from a provider. */
export const OPTARE_WEBHOOKS = Symbol.for("@optare/webhooks-nestjs:webhooks");

export interface OptareWebhooksModuleOptions {
  webhooks: Pick<Webhooks, "receive">;
  /** The webhook route (under the app's global prefix, if any). Default `/webhooks/optare`. */
  path?: string;
}

export interface OptareWebhooksModuleAsyncOptions extends Pick<nest.ModuleMetadata, "imports"> {
  path?: string;
  /** Builds the `webhooks`, e.g. with the secret from `ConfigService`; gets the `inject` providers. */
  useFactory: (...deps: any[]) => Pick<Webhooks, "receive"> | Promise<Pick<Webhooks, "receive">>;
  inject?: any[];
}

/** Nest's request, either platform; `rawBody` kept by `NestFactory.create(AppModule, { rawBody: true })`. */
type NestRequest = IncomingMessage & { rawBody?: unknown; body?: unknown; _body?: unknown; raw?: unknown };
/** An Express response is a `ServerResponse`; a Fastify reply has `raw`, `code().headers().send()`. */
type Reply = ServerResponse | { raw: ServerResponse; code(status: number): any };

const RAW_BODY_REQUIRED =
  "The request body was parsed before the Optare webhook route ran and Nest kept no raw bytes, so the " +
  "signature cannot be checked. Create the app with NestFactory.create(AppModule, { rawBody: true }) so " +
  "Nest keeps req.rawBody, or (Express) pass { bodyParser: false } and skip this path in your JSON parser.";

/** Kept bytes; `false`: parsed without them (Fastify always parses; body-parser 1 sets `_body`). */
function rawBody(req: NestRequest): Uint8Array | false | undefined {
  if (req.rawBody instanceof Uint8Array) return req.rawBody;
  if (req.body instanceof Uint8Array) return req.body;
  return req.raw !== undefined || req._body === true ? (req.body == null ? undefined : false) : undefined;
}

function createController(path: string) {
  class OptareWebhooksController {
    private readonly node: (req: NestRequest, res: ServerResponse) => Promise<void>;
    constructor(private readonly webhooks: Pick<Webhooks, "receive">) {
      this.node = createNodeHandler(webhooks, { rawBody, consumedBodyMessage: RAW_BODY_REQUIRED });
    }
    async receive(req: NestRequest, res: Reply): Promise<void> {
      if (!("raw" in res)) return this.node(req, res); // Express: the Node transport, stream or bytes.
      const kept = rawBody(req); // Fastify has read the stream already: its bytes or nothing.
      const reply = await this.webhooks.receive({
        method: req.method ?? "GET",
        header: (name) => [req.headers[name] ?? []].flat().join(", ") || undefined,
        body: kept || null,
        bodyConsumed: kept === false ? RAW_BODY_REQUIRED : undefined,
      });
      // Bytes, not a string: Fastify would append `; charset=utf-8` to the core's Content-Type.
      res.code(reply.status).headers(reply.headers).send(Buffer.from(reply.body));
    }
  }
  const proto = OptareWebhooksController.prototype; // Decorators as calls: no compiler flag, no metadata.
  nest.Inject(OPTARE_WEBHOOKS)(OptareWebhooksController, undefined, 0);
  nest.Req()(proto, "receive", 0);
  nest.Res()(proto, "receive", 1);
  nest.All(path)(proto, "receive", Object.getOwnPropertyDescriptor(proto, "receive")!);
  nest.Controller()(OptareWebhooksController);
  return OptareWebhooksController;
}

/** Serves the webhook route: `OptareWebhooksModule.forRoot({ webhooks })` in your `AppModule`'s imports. */
// biome-ignore lint/complexity/noStaticOnlyClass: a Nest dynamic module is a class with static factories.
export class OptareWebhooksModule {
  static forRoot({ webhooks, path }: OptareWebhooksModuleOptions): nest.DynamicModule {
    return OptareWebhooksModule.forRootAsync({ path, useFactory: () => webhooks });
  }
  static forRootAsync(options: OptareWebhooksModuleAsyncOptions): nest.DynamicModule {
    const { path = "/webhooks/optare", imports, useFactory, inject } = options;
    const controllers = [createController(path)];
    const providers = [{ provide: OPTARE_WEBHOOKS, useFactory, inject }];
    return { module: OptareWebhooksModule, imports, controllers, providers, exports: [OPTARE_WEBHOOKS] };
  }
}
nest.Module({})(OptareWebhooksModule);
