import { fileURLToPath } from "node:url";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  assertPackagesBuilt,
  build,
  describeDeliveries,
  type RunningServer,
  startServer,
} from "../../e2e-suite";

const cwd = fileURLToPath(new URL("..", import.meta.url));
const nextBin = `${cwd}node_modules/next/dist/bin/next`;
const secret = "0f1e2d3c4b5a6978".repeat(4);
let server: RunningServer;

process.env.NEXT_TELEMETRY_DISABLED = "1";

const ids = async (path: string) => (await fetch(`${server.url}${path}`)).json() as Promise<string[]>;

// `next build` (production, Turbopack) consuming the packages' dist, then `next start` as a real server.
describe("examples/next over real HTTP", () => {
  beforeAll(async () => {
    assertPackagesBuilt("webhooks", "testing", "next");
    build(cwd, 420_000);
    server = await startServer(cwd, [nextBin, "start", "--hostname", "127.0.0.1"], secret); // port: $PORT
  }, 480_000);
  afterEach(({ task }) => {
    if (task.result?.state === "fail") console.error(`next start output:\n${server?.output()}`);
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe("App Router, Node.js runtime: POST /webhooks/optare", () => {
    describeDeliveries(() => server, secret);
  });

  describe("Pages Router API route: POST /api/webhooks/optare", () => {
    describeDeliveries(() => server, secret, { hook: "/api/webhooks/optare" });

    it("shares the process's store with the App route: a delivery seen there is a duplicate here", async () => {
      const event = createEvent("api_key.created");
      const { body, headers } = signEvent(event, secret);
      expect((await fetch(`${server.url}/webhooks/optare`, { method: "POST", body, headers })).status).toBe(
        200,
      );
      const again = await fetch(`${server.url}/api/webhooks/optare`, { method: "POST", body, headers });
      expect([again.status, await again.json()]).toEqual([200, { received: true, duplicate: true }]);
      expect((await ids("/events")).filter((id) => id === event.id)).toEqual([event.id]);
    });
  });

  describe("Pages Router API route without `export const config`: POST /api/webhooks/body-parsed", () => {
    it("refuses with 500 raw_body_required, naming the fix, and runs no handler", async () => {
      const before = await ids("/events");
      const { body, headers } = signEvent(createEvent("user.created"), secret);
      const res = await fetch(`${server.url}/api/webhooks/body-parsed`, { method: "POST", body, headers });
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect([res.status, error.code]).toEqual([500, "raw_body_required"]);
      expect(error.message).toContain("export const config = { api: { bodyParser: false } }");
      expect(await ids("/events")).toEqual(before);
    });
  });

  describe("App Router, Edge runtime: POST /webhooks/optare-edge", () => {
    describeDeliveries(() => server, secret, {
      hook: "/webhooks/optare-edge",
      events: "/webhooks/optare-edge",
    });
  });
});
