import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe } from "vitest";
import {
  assertPackagesBuilt,
  build,
  describeDeliveries,
  type RunningServer,
  startServer,
} from "../../e2e-suite";

const cwd = fileURLToPath(new URL("..", import.meta.url));
const secret = "0123456789abcdef".repeat(4);
let server: RunningServer;

// The built app (tsup → dist/server.js, consuming the packages' dist) runs as a real server process.
describe("examples/express over real HTTP", () => {
  beforeAll(async () => {
    assertPackagesBuilt("webhooks", "express");
    build(cwd);
    server = await startServer(cwd, ["dist/server.js"], secret);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  describeDeliveries(() => server, secret);
});
