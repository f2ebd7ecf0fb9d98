import { createRouteHandler } from "@optare/webhooks-next";
import { after } from "next/server";
import { webhooks } from "../../../lib/receiver";

// App Router, Node.js runtime (the default). `after` keeps handlers that outlive the 25 s
// acknowledgement deadline running where the platform would otherwise freeze after the response.
export const POST = createRouteHandler(webhooks, { waitUntil: after });

// Optional: other methods reach the core too, which answers 405 with `Allow: POST`
// (Next.js's own 405 for a method the route does not export carries no Allow header).
export { POST as DELETE, POST as GET, POST as PATCH, POST as PUT };
