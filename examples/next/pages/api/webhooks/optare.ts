import { createPagesHandler } from "@optare/webhooks-next/pages";
import { webhooks } from "../../../lib/receiver";

// Must be written here, as a literal: Next.js reads it from this file's source at build time and
// ignores a re-exported or computed `config`. Without it the body parser eats the signed bytes.
export const config = { api: { bodyParser: false } };

export default createPagesHandler(webhooks);
