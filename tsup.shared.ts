// The build every published package shares: ESM + CJS with types (.d.ts / .d.cts), for Node ≥ 20.
import type { Options } from "tsup";

export const packageBuild = {
  format: ["esm", "cjs"],
  dts: true,
  target: "node20",
  sourcemap: true,
} satisfies Options;
