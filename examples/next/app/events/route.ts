import { processedIds } from "../../lib/receiver";

export const dynamic = "force-dynamic";

/** The ids the Node.js routes (App Router and Pages Router) processed, newest first. */
export function GET(): Response {
  return Response.json(processedIds());
}
