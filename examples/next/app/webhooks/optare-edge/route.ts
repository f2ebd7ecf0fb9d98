import { createRouteHandler } from "@optare/webhooks-next";
import { after } from "next/server";
import { processedIds, webhooks } from "../../../lib/receiver";

// App Router, Edge runtime: `@optare/webhooks` resolves to its Web Crypto build here.
export const runtime = "edge";

export const POST = createRouteHandler(webhooks, { waitUntil: after });

/** The ids this Edge route processed, newest first (its isolate's own list; see lib/receiver.ts). */
export function GET(): Response {
  return Response.json(processedIds());
}
