import type { Webhooks } from "@optare/webhooks";

/** The argument React Router and Remix pass to a route's `action` (and `loader`). */
export interface RouteArgs {
  request: Request;
}

/**
 * A route `action` for React Router v7 (framework mode) and Remix v2: the request goes to
 * `webhooks.handle`, whose `Response` is returned as is. Export it as the `loader` too, so GET gets the
 * core's 405 rather than the framework's error for a route without a loader.
 *
 * ```ts
 * export const action = createAction(webhooks);
 * export const loader = action;
 * ```
 */
export function createAction(webhooks: Pick<Webhooks, "handle">): (args: RouteArgs) => Promise<Response> {
  return ({ request }) => webhooks.handle(request);
}
