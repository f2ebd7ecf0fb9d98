import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.shared";

export default defineConfig([
  { ...packageBuild, entry: ["src/index.ts"] },
  // ESM only: the store contract imports vitest (ESM-only since v4), and the CLI runs as an ES module.
  { ...packageBuild, entry: ["src/store-contract.ts", "src/cli.ts"], format: ["esm"] },
]);
