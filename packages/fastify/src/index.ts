import type { BodySource, HandleContext, Webhooks } from "@optare/webhooks";
import type { FastifyPluginAsync } from "fastify";

export interface WebhookPluginOptions extends HandleContext {
  /** The webhook route, under the prefix the plugin is registered with. Default `/webhooks/optare`. */
  path?: string;
}

/**
 * A Fastify 5 plugin serving the webhook route: `app.register(createWebhookPlugin(webhooks))`. In its own
 * encapsulated context, every content type is left unparsed: the request body stream goes to the core
 * (`webhooks.receive`), which reads the exact bytes under its own size limit and makes every decision; its
 * reply is sent with `reply`. The app's other routes keep Fastify's JSON parser.
 */
export function createWebhookPlugin(
  webhooks: Pick<Webhooks, "receive">,
  { path = "/webhooks/optare", ...context }: WebhookPluginOptions = {},
): FastifyPluginAsync {
  return async function optareWebhooks(app) {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("*", (_request, payload, done) => done(null, payload));
    // Every method Fastify routes: the core answers all but POST with 405 and `Allow: POST`.
    app.all(path, async (request, reply) => {
      const { status, headers, body } = await webhooks.receive(
        {
          method: request.method,
          header: (name) => {
            const value = request.headers[name];
            return Array.isArray(value) ? value.join(", ") : value;
          },
          body: (request.body as BodySource | undefined) ?? null,
        },
        context,
      );
      // Bytes, not a string: Fastify would append `; charset=utf-8` to the core's Content-Type.
      return reply.code(status).headers(headers).send(Buffer.from(body));
    });
  };
}
