import { createAction } from "@optare/webhooks-remix";
import { webhooks } from "../webhooks.server";

// The action receives the untouched Web `Request`, so the signature is checked over the raw bytes.
export const action = createAction(webhooks);
// GET and HEAD reach the loader: the core answers them 405 with `Allow: POST`.
export const loader = action;
