import { defineConfig } from "tsup";

export default defineConfig({
  entry: ["src/index.ts", "src/pages.ts"],
  format: ["esm", "cjs"],
  dts: true,
  target: "node20",
  sourcemap: true,
});
