// Reports the min+gzip size of each public entry of @optare/webhooks as an app's bundler builds it —
// resolved through the package's `exports` with the conditions of the target (a Worker/edge bundler picks
// `workerd`/`edge-light`/`browser`, Node picks `node`/`import`), every dependency included (zod/mini
// too: it is bundled into the package's dist, tree-shaken) — and fails past the budgets. Issue 13: the
// receiver for an edge/Worker target in ≤ 25 KB min+gzip.
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const KB = 1024;
const edge = { platform: "neutral", conditions: ["workerd", "worker", "edge-light", "browser", "import"] };
const node = { platform: "node", conditions: ["node", "import"] };
const budgets = [
  { entry: "@optare/webhooks/verify", target: "edge", ...edge, limit: 2 * KB },
  { entry: "@optare/webhooks/verify", target: "node", ...node, limit: 2 * KB },
  { entry: "@optare/webhooks", target: "edge", ...edge, limit: 25 * KB },
  { entry: "@optare/webhooks", target: "node", ...node, limit: 25 * KB },
];

// Resolved from a file inside the workspace (the root package.json does not depend on the package, the
// bench package does), so the `exports` map and its conditions are what esbuild follows.
const from = fileURLToPath(new URL("../bench/", import.meta.url));

let failed = false;
const rows = [];
for (const { entry, target, platform, conditions, limit } of budgets) {
  const stdin = `export * from ${JSON.stringify(entry)};`;
  const result = await build({
    stdin: { contents: stdin, resolveDir: from, loader: "js" },
    bundle: true,
    minify: true,
    write: false,
    format: "esm",
    platform,
    conditions,
    mainFields: ["module", "main"],
    tsconfigRaw: "{}", // the repo's tsconfig maps the packages to their sources: measure the built dist
    // The optional OpenTelemetry peer is only imported by the /otel entry; node builtins are the runtime's.
    external: ["node:*", "crypto", "@opentelemetry/api"],
    metafile: true,
  });
  const bytes = gzipSync(result.outputFiles[0].contents, { level: 9 }).length;
  const zod = Object.entries(result.metafile.inputs).filter(([path]) => path.includes("zod")).length;
  const ok = bytes <= limit;
  failed ||= !ok;
  rows.push({
    entry: `${entry} (${target})`,
    "min+gzip": `${(bytes / KB).toFixed(2)} KB`,
    budget: `${limit / KB} KB`,
    ok: ok ? "yes" : "NO",
  });
  if (zod > 0) throw new Error(`size: ${entry} (${target}) imports the zod package at run time`);
}
console.table(rows);
if (failed) {
  console.error("size: an entry is over its budget");
  process.exit(1);
}
