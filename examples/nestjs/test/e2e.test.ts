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

// The built app (tsc, with decorators → dist/main.js, consuming the packages' dist) runs as a real server.
beforeAll(() => {
  assertPackagesBuilt("webhooks", "nestjs");
  build(cwd);
}, 120_000);

describe("examples/nestjs over real HTTP", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(cwd, ["dist/main.js"], secret);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  describeDeliveries(() => server, secret);
});
