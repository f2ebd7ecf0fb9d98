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

/**
 * zod/mini's code is bundled, tree-shaken to the parts the catalog uses (~6 KB min+gzip): importing the
 * `zod/mini` package loads all of zod's core (its JSON Schema converter, every check, every locale), which
 * was most of a cold start. Types still come from the `zod` dependency, so a schema stays a zod schema.
 */
const bundleZod = { noExternal: ["zod"] };

export default defineConfig([
  { ...packageBuild, ...bundleZod, entry: nodeEntry },
  {
    entry,
    outDir: "dist/web",
    format: ["esm"],
    platform: "neutral",
    target: "es2022",
    sourcemap: true,
    ...bundleZod,
    external: ["@opentelemetry/api"],
    esbuildPlugins: [webCrypto],
  },
]);
