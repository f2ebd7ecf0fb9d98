import { describeBuiltExample } from "../../e2e-suite";

// The built app (tsup → dist/server.js, consuming the packages' dist) runs as a real server process.
describeBuiltExample("examples/hono on Node.js (@hono/node-server) over real HTTP", {
  testUrl: import.meta.url,
  packages: ["webhooks", "hono"],
  entry: "dist/server.js",
});
