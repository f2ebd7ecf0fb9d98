// The optare-webhooks CLI, spawned as a real process (its source, through tsx) against real
// receivers on 127.0.0.1.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createWebhooks, EVENT_TYPES, type WebhookEvent } from "@optare/webhooks";
import { afterEach, describe, expect, it } from "vitest";
import type { ConformanceReport } from "./conformance";
import { fixtures } from "./fixtures";
import { serveHandler } from "./test-receiver";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const tsx = join(root, "node_modules/.bin/tsx");
const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
const secret = "0123456789abcdef".repeat(4);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, OPTARE_WEBHOOK_SECRET: "", ...options.env };
    const child = spawn(tsx, [cli, ...args], { cwd: root, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const task of cleanup.splice(0)) await task();
});

async function receiver(handlerSecret = secret) {
  const processed: WebhookEvent[] = [];
  const webhooks = createWebhooks({ secret: handlerSecret }).onAny((event) => {
    processed.push(event);
  });
  const served = await serveHandler((request) => webhooks.handle(request));
  cleanup.push(served.close);
  return { url: served.url, processed };
}

// Each spawn starts tsx (about a second, more on a loaded machine), hence the generous timeout.
describe("optare-webhooks CLI", { timeout: 60_000 }, () => {
  it("--help prints the usage and exits 0; a bad command line exits 2", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["trigger <event>", "sign", "conformance"]) expect(help.stdout).toContain(command);

    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Missing a command");

    const missingUrl = await run(["trigger", "user.created", "--secret", secret]);
    expect(missingUrl).toMatchObject({ code: 2, stdout: "" });
    expect(missingUrl.stderr).toContain("Missing --url");
  });

  it("sign prints the signature of stdin's exact bytes", async () => {
    const result = await run(["sign", "--secret", "It's a Secret to Everybody"], { input: "Hello, World!" });
    expect(result).toEqual({
      code: 0,
      stdout: "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n",
      stderr: "",
    });
  });

  it("trigger sends the fixture for a catalog event, signed, and prints the answer", async () => {
    const target = await receiver();
    const result = await run(["trigger", "member.invitation.accepted", "--url", target.url], {
      env: { OPTARE_WEBHOOK_SECRET: secret },
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^→ POST http:\/\/127\.0\.0\.1:\d+\/webhooks\/optare {2}member\.invitation\.accepted {2}evt_/,
    );
    expect(result.stdout).toContain("← HTTP 200");
    expect(result.stdout).toContain('{"received":true}');
    expect(target.processed).toHaveLength(1);
    expect(target.processed[0]).toMatchObject({
      event: "member.invitation.accepted",
      data: fixtures["member.invitation.accepted"],
    });
  });

  it("trigger --data --id sends the given data under the given id", async () => {
    const target = await receiver();
    const dir = await mkdtemp(join(tmpdir(), "optare-cli-"));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, "data.json");
    await writeFile(file, JSON.stringify({ invoice: { id: "in_42", amount: 1200 } }));

    const args = ["trigger", "billing.invoice.paid", "--url", target.url, "--secret", secret];
    const result = await run([...args, "--data", file, "--id", "evt_cli_1"]);
    expect(result.code).toBe(0);
    expect(target.processed).toEqual([
      expect.objectContaining({
        event: "billing.invoice.paid",
        id: "evt_cli_1",
        data: { invoice: { id: "in_42", amount: 1200 } },
      }),
    ]);

    const noFixture = await run(args);
    expect(noFixture.code).toBe(2);
    expect(noFixture.stderr).toContain("pass --data");
    const missingFile = await run([...args, "--data", join(dir, "nope.json")]);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toContain("Cannot read --data");
  });

  it("trigger exits 1 and shows the receiver's answer when it refuses the delivery", async () => {
    const target = await receiver("the receiver's other secret");
    const result = await run(["trigger", "user.created", "--url", target.url, "--secret", secret]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("← HTTP 401");
    expect(result.stdout).toContain("signature_mismatch");
    expect(target.processed).toEqual([]);
  });

  it("conformance --json reports a passing receiver and exits 0", async () => {
    const target = await receiver();
    const result = await run(["conformance", "--url", target.url, "--secret", secret, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as ConformanceReport;
    expect(report.passed).toBe(true);
    expect(report.checks).toHaveLength(EVENT_TYPES.length + 11);
  });

  it("conformance prints a table of failures and exits 1 for a receiver that accepts anything", async () => {
    const served = await serveHandler(async () => Response.json({ received: true }));
    cleanup.push(served.close);
    const result = await run(["conformance", "--url", served.url, "--secret", secret]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^PASS {2}accepts user\.created +expected 2xx {2}got 200$/m);
    expect(result.stdout).toMatch(/^FAIL {2}rejects a tampered body +expected 401 {2}got 200$/m);
    expect(result.stdout).toMatch(/^FAIL {2}rejects an oversize body +expected 413 {2}got 200$/m);
    expect(result.stdout).toContain(
      `${EVENT_TYPES.length + 11} checks: ${EVENT_TYPES.length + 2} passed, 9 failed.`,
    );
  });
});
