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
  expect(result.status).toBe(0);
  // The one failure is logged, loudly, by the receiver's default logger: a line and the handler's stack.
  expect(result.stderr).toMatch(
    /^\[optare-webhooks\] A handler failed; the event was released for the retry\. status=500 code=handler_failed eventType=member\.invitation\.accepted/,
  );
  expect(result.stderr).toContain("caused by: Error: CRM timed out (simulated, first attempt only)");
  expect(result.stderr.match(/\[optare-webhooks\]/g)).toHaveLength(1);
  expect(result.stdout).toContain("✓ 27/27 events processed by the app");
  expect(result.stdout).toMatch(/✓ 1 retry: the failed delivery came back 1 virtual minute/);
  expect(result.stdout).toMatch(/member\.invitation\.accepted.*500/);
}, 60_000);
