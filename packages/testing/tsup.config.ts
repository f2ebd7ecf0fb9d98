import { defineConfig } from "tsup";

const options = { dts: true, target: "node20", sourcemap: true } as const;

export default defineConfig([
  { ...options, entry: ["src/index.ts"], format: ["esm", "cjs"] },
  // ESM only: the store contract imports vitest (ESM-only since v4), and the CLI runs as an ES module.
  { ...options, entry: ["src/store-contract.ts", "src/cli.ts"], format: ["esm"] },
]);
