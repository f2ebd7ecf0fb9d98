import { processed } from "../webhooks.server";

export function loader() {
  return Response.json(processed);
}
