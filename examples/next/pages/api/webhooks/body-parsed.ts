import { createPagesHandler } from "@optare/webhooks-next/pages";
import { webhooks } from "../../../lib/receiver";

// Do not copy this file: it deliberately lacks `export const config = { api: { bodyParser: false } }`,
// to show (and let the e2e test check) the `raw_body_required` error you get when the export is missing.
export default createPagesHandler(webhooks);
