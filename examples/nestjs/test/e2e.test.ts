import { describeBuiltExample } from "../../e2e-suite";

// The built app (tsc, with decorators → dist/main.js, consuming the packages' dist) runs as a real server.
describeBuiltExample("examples/nestjs over real HTTP", {
  testUrl: import.meta.url,
  packages: ["webhooks", "nestjs"],
  entry: "dist/main.js",
});
