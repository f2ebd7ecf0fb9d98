// `pnpm demo` is the README's first command: it must keep working and keep showing what it claims.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("runs the demo: every event type processed, one failed delivery retried and acknowledged", () => {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/demo.ts"], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  expect(result.stdout).toContain("✓ 27/27 events processed by the app");
  expect(result.stdout).toMatch(/✓ 1 retry: the failed delivery came back 1 virtual minute/);
  expect(result.stdout).toMatch(/member\.invitation\.accepted.*500/);
}, 60_000);
