import { describeBuiltExample } from "../../e2e-suite";

// The built app (dist/server.js, consuming the packages' dist) runs as a real server process.
describeBuiltExample("examples/fastify (Fastify 5) over real HTTP", {
  testUrl: import.meta.url,
  packages: ["webhooks", "fastify"],
  entry: "dist/server.js",
});
