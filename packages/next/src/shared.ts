import type { Webhooks } from "@optare/webhooks";

/** A receiver every route of the app shares: what `defineWebhooks` returns. */
export interface SharedWebhooks<W extends Pick<Webhooks, "handle" | "receive">> {
  /** For App Router routes (`createRouteHandler`). */
  handle: Webhooks["handle"];
  /** For Pages Router routes (`createPagesHandler`). */
  receive: Webhooks["receive"];
  /** The receiver itself, created by the first call in this process (or Edge isolate). */
  get(): W;
}

/**
 * One receiver per process for every route of a Next.js app. Next.js bundles App Router routes, Pages
 * Router routes and the instrumentation hook separately, so a module-level `createWebhooks()` runs once
 * per bundle: two idempotency stores (a duplicate delivered to each route runs twice) and handlers
 * registered twice. `defineWebhooks` keeps the receiver `create` returns in `globalThis` under a
 * `Symbol.for` key, creates it on the first request (a build never runs it), and gives every bundle that
 * same one. An Edge isolate has a `globalThis` of its own, hence a receiver of its own.
 *
 * ```ts
 * // lib/webhooks.ts
 * export const webhooks = defineWebhooks(() =>
 *   createWebhooks({ secret: () => process.env.OPTARE_WEBHOOK_SECRET }).on("user.created", async (event) => {
 *     await crm.upsert(event.data.user);
 *   }),
 * );
 * ```
 */
export function defineWebhooks<W extends Pick<Webhooks, "handle" | "receive">>(
  create: () => W,
  { key = "default" }: { key?: string } = {},
): SharedWebhooks<W> {
  const slot = Symbol.for(`@optare/webhooks-next/receiver:${key}`);
  const shared = globalThis as Record<symbol, W | undefined>;
  const get = () => (shared[slot] ??= create());
  return {
    get,
    handle: (request, context) => get().handle(request, context),
    receive: (request, context) => get().receive(request, context),
  };
}
