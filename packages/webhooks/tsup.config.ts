import { resolve } from "node:path";
import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.shared";

/** `verify` is the public `/verify` entry; src/verify.ts also holds internals the core shares. */
const entry = { index: "src/index.ts", verify: "src/verify-entry.ts", otel: "src/otel.ts" };
/** Node's `http` transport: Node builds only. */
const nodeEntry = { ...entry, node: "src/node.ts" };

/** Runtimes without node:crypto get the Web build: `crypto-node` is swapped for `crypto-web`. */
const webCrypto = {
  name: "web-crypto",
  setup(build: {
    onResolve: (o: { filter: RegExp }, cb: (a: { resolveDir: string }) => { path: string }) => void;
  }) {
    build.onResolve({ filter: /\/crypto-node$/ }, (args) => ({
      path: resolve(args.resolveDir, "crypto-web.ts"),
    }));
  },
};

export default defineConfig([
  { ...packageBuild, entry: nodeEntry },
  {
    entry,
    outDir: "dist/web",
    format: ["esm"],
    platform: "neutral",
    target: "es2022",
    sourcemap: true,
    external: ["zod", "@opentelemetry/api"],
    esbuildPlugins: [webCrypto],
  },
]);
