// Reports the min+gzip size of each public entry of @optare/webhooks, bundled the way an app would
// bundle it (zod left out: it is a dependency the app shares), and fails past the budgets.
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const budgets = [
  { entry: "verify", platform: "node", limit: 2 * 1024 },
  { entry: "verify", platform: "web", limit: 2 * 1024 },
  { entry: "index", platform: "node", limit: 15 * 1024 },
  { entry: "index", platform: "web", limit: 15 * 1024 },
];

let failed = false;
const rows = [];
for (const { entry, platform, limit } of budgets) {
  const file =
    platform === "web" ? `packages/webhooks/dist/web/${entry}.js` : `packages/webhooks/dist/${entry}.js`;
  const result = await build({
    entryPoints: [file],
    bundle: true,
    minify: true,
    write: false,
    format: "esm",
    platform: platform === "web" ? "neutral" : "node",
    external: ["zod", "node:*"],
  });
  const bytes = gzipSync(result.outputFiles[0].contents, { level: 9 }).length;
  const ok = bytes <= limit;
  failed ||= !ok;
  rows.push({
    entry: `@optare/webhooks${entry === "index" ? "" : `/${entry}`} (${platform})`,
    "min+gzip": `${(bytes / 1024).toFixed(2)} KB`,
    budget: `${limit / 1024} KB`,
    ok: ok ? "yes" : "NO",
  });
}
console.table(rows);
if (failed) {
  console.error("size: an entry is over its budget");
  process.exit(1);
}
