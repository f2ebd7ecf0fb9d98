import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests run against source: every workspace package name resolves to its src/ entry.
// `@optare/webhooks-<dir>` is packages/<dir>; a subpath `/x` is src/x.ts.
export const alias = [
  { find: /^@optare\/webhooks-([a-z]+)\/([a-z-]+)$/, replacement: src("$1/src/$2.ts") },
  { find: /^@optare\/webhooks-([a-z]+)$/, replacement: src("$1/src/index.ts") },
  // `/verify` is the public entry file; src/verify.ts also holds internals.
  { find: /^@optare\/webhooks\/verify$/, replacement: src("webhooks/src/verify-entry.ts") },
  { find: /^@optare\/webhooks\/([a-z-]+)$/, replacement: src("webhooks/src/$1.ts") },
  { find: /^@optare\/webhooks$/, replacement: src("webhooks/src/index.ts") },
];

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "scripts/**/*.test.ts", "docs/**/*.test.ts"],
          typecheck: {
            enabled: true,
            include: ["packages/*/src/**/*.test-d.ts"],
            tsconfig: "./tsconfig.json",
          },
        },
      },
      {
        // The example apps, production-built and served as real servers: one at a time on 2 cores.
        extends: true,
        test: {
          name: "e2e",
          include: ["examples/*/test/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
