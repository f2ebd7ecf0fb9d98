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
const serve = `${cwd}node_modules/@react-router/serve/bin.js`; // the react-router-serve CLI
const secret = "fedcba9876543210".repeat(4);
let server: RunningServer;

// Production build (`react-router build`), served by `react-router-serve` as a real server process.
describe("examples/remix over real HTTP", () => {
  beforeAll(async () => {
    assertPackagesBuilt("webhooks", "remix");
    build(cwd);
    server = await startServer(cwd, [serve, "build/server/index.js"], secret);
  }, 300_000);
  afterAll(async () => {
    await server?.stop();
  });

  describeDeliveries(() => server, secret);
});
