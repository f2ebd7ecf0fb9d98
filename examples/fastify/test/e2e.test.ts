import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertPackagesBuilt,
  build,
  describeDeliveries,
  type RunningServer,
  startServer,
} from "../../e2e-suite";

const cwd = fileURLToPath(new URL("..", import.meta.url));
const secret = "0123456789abcdef".repeat(4);

// The built app (tsup → dist/server.js, consuming the packages' dist) runs as a real server process.
beforeAll(() => {
  assertPackagesBuilt("webhooks", "fastify");
  build(cwd);
}, 120_000);

describe("examples/fastify (Fastify 5) over real HTTP", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(cwd, ["dist/server.js"], secret);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("says where it listens", () => {
    expect(server.output()).toContain("POST /webhooks/optare, GET /events");
  });
  describeDeliveries(() => server, secret);
});
