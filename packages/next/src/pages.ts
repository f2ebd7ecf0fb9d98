import type { ServerResponse } from "node:http";
import type { Webhooks } from "@optare/webhooks";
import { createNodeHandler, type NodeHandlerOptions, type NodeRequest } from "@optare/webhooks/node";

/** A Pages Router API route (`export default`), typed loosely enough for `NextApiRequest`/`NextApiResponse`. */
export type PagesHandler = (req: NodeRequest, res: ServerResponse) => Promise<void>;

const CONSUMED_BODY =
  "Next.js consumed the request body before the webhook handler ran, so the signed bytes are gone. " +
  "Add `export const config = { api: { bodyParser: false } };` to this API route file itself " +
  "(a literal export; Next.js does not see a re-exported or computed config).";

/**
 * Receives Optare webhooks in a Pages Router API route: `export default createPagesHandler(webhooks)`.
 * The file must also export `config = { api: { bodyParser: false } }` literally, so the raw bytes reach the core.
 */
export function createPagesHandler(
  webhooks: Pick<Webhooks, "receive">,
  options: Pick<NodeHandlerOptions, "bodyTimeoutMs" | "waitUntil"> = {},
): PagesHandler {
  // Next.js's own parser leaves the stream ended, which the Node transport sees: only the message is ours.
  return createNodeHandler(webhooks, { ...options, consumedBodyMessage: CONSUMED_BODY });
}
