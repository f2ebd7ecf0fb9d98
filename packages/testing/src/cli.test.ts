// The optare-webhooks CLI, spawned as a real process (its source, through tsx) against real
// receivers on 127.0.0.1.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createWebhooks, EVENT_TYPES, type WebhookEvent } from "@optare/webhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConformanceReport } from "./conformance";
import { fixtures } from "./fixtures";
import { serveHandler } from "./test-receiver";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const packageDir = fileURLToPath(new URL("..", import.meta.url));
const tsx = join(root, "node_modules/.bin/tsx");
const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
const secret = "0123456789abcdef".repeat(4);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh TMPDIR per test: where `trigger` keeps the bodies it sent. */
let temp = "";
beforeEach(async () => {
  temp = await mkdtemp(join(tmpdir(), "optare-cli-"));
  cleanup.push(() => rm(temp, { recursive: true, force: true }));
});

function run(
  args: string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<Result> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, OPTARE_WEBHOOK_SECRET: "", TMPDIR: temp, ...options.env };
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
  for (const task of cleanup.splice(0).reverse()) await task();
});

async function receiver(handlerSecret = secret) {
  const processed: WebhookEvent[] = [];
  const webhooks = createWebhooks({ secret: handlerSecret, logger: false }).onAny((event) => {
    processed.push(event);
  });
  const served = await serveHandler((request) => webhooks.handle(request));
  cleanup.push(served.close);
  return { url: served.url, processed };
}

/** A URL whose port refuses connections. */
async function closedUrl(): Promise<string> {
  const served = await serveHandler(async () => new Response(null));
  await served.close();
  return served.url;
}

/** A URL that accepts connections and never answers. */
async function silentUrl(): Promise<string> {
  const server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/optare`;
}

// Each spawn starts tsx (about a second, more on a loaded machine), hence the generous timeout.
describe("optare-webhooks CLI", { timeout: 60_000 }, () => {
  it("--help prints the commands and the exit codes; each command has its own --help", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    for (const text of [
      "trigger <event>",
      "sign",
      "conformance",
      "events",
      "--version",
      "Exit status:",
      "  3  ",
    ]) {
      expect(help.stdout).toContain(text);
    }
    expect(help.stdout).toContain("npx @optare/webhooks-testing");

    const trigger = await run(["trigger", "--help"]);
    expect(trigger.code).toBe(0);
    for (const flag of [
      "--url",
      "--secret",
      "--data",
      "--id",
      "--timestamp",
      "--fresh",
      "--timeout",
      "Exit status:",
    ]) {
      expect(trigger.stdout).toContain(flag);
    }
    expect(trigger.stdout).not.toContain("Commands:");
    const conformance = await run(["help", "conformance"]);
    expect(conformance.stdout).toMatch(/^Usage: optare-webhooks conformance/);
    expect(conformance.stdout).toContain("--json");
  });

  it("a bad command line exits 2, with a suggestion for a typo", async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Missing a command");

    const typo = await run(["triger", "user.created"]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("Unknown command: triger. Did you mean trigger?");

    const missingUrl = await run(["trigger", "user.created", "--secret", secret]);
    expect(missingUrl).toMatchObject({ code: 2, stdout: "" });
    expect(missingUrl.stderr).toContain("Missing --url");
    expect(missingUrl.stderr).toContain("optare-webhooks trigger --help");

    const target = await receiver();
    const type = await run(["trigger", "user.create", "--url", target.url, "--secret", secret]);
    expect(type.code).toBe(2);
    expect(type.stderr).toContain("Did you mean user.created?");
    expect(target.processed).toEqual([]);
  });

  it("--version prints the package's version; events lists the event types", async () => {
    const manifest = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as {
      version: string;
    };
    expect(await run(["--version"])).toEqual({ code: 0, stdout: `${manifest.version}\n`, stderr: "" });

    const events = await run(["events"]);
    expect(events.code).toBe(0);
    const lines = events.stdout.trim().split("\n");
    expect(lines.map((line) => line.split(" ")[0])).toEqual(EVENT_TYPES);
    expect(events.stdout).toMatch(/^member\.invitation\.revoked .*counterpart added by the SDK/m);
    const json = await run(["list-events", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual(EVENT_TYPES);
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

  it("trigger --id twice sends a true duplicate: 200, then 200 duplicate, the handler run once", async () => {
    const target = await receiver();
    const args = ["trigger", "user.created", "--url", target.url, "--secret", secret, "--id", "evt_x"];
    const first = await run(args);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("← HTTP 200");
    expect(first.stdout).toContain('{"received":true}');

    const second = await run(args);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/^↻ Resending the exact body first sent under evt_x at /);
    expect(second.stdout).toContain("← HTTP 200");
    expect(second.stdout).toContain('{"received":true,"duplicate":true}');
    expect(target.processed.map((event) => event.id)).toEqual(["evt_x"]);

    // Other content under the same id is refused on the command line, unless --fresh asks for it.
    const other = await run([...args.slice(0, 1), "user.deleted", ...args.slice(2)]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("evt_x was sent before");
    expect(other.stderr).toContain("--fresh");
    const fresh = await run([...args, "--fresh"]);
    expect(fresh.code).toBe(1);
    expect(fresh.stdout).toContain("← HTTP 422");
    expect(fresh.stdout).toContain("event_conflict");
  });

  it("trigger --timestamp sets the event time", async () => {
    const target = await receiver();
    const at = new Date(Date.now() - 60_000).toISOString();
    const args = ["trigger", "user.created", "--url", target.url, "--secret", secret];
    const result = await run([...args, "--timestamp", at]);
    expect(result.code).toBe(0);
    expect(target.processed[0]).toMatchObject({ timestamp: at });
    const bad = await run([...args, "--timestamp", "yesterday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--timestamp yesterday is not an ISO-8601 time");
  });

  it("trigger --data --id sends the given data under the given id", async () => {
    const target = await receiver();
    const file = join(temp, "data.json");
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
    expect(noFixture.stderr).toContain("pass its data with --data");
    const missingFile = await run([...args, "--data", join(temp, "nope.json")]);
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

  it("trigger exits 3 when nothing answers: refused, or silent past --timeout", async () => {
    const refused = await run(["trigger", "user.created", "--url", await closedUrl(), "--secret", secret]);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/Is the app running at http:\/\/127\.0\.0\.1:\d+\?/);

    const args = [
      "trigger",
      "user.created",
      "--url",
      await silentUrl(),
      "--secret",
      secret,
      "--timeout",
      "300",
    ];
    const silent = await run(args);
    expect(silent.code).toBe(3);
    expect(silent.stdout).toContain("timeout");
  });

  it("conformance --json reports a passing receiver on stdout, one progress line per check on stderr", async () => {
    const target = await receiver();
    const result = await run(["conformance", "--url", target.url, "--secret", secret, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as ConformanceReport;
    expect(report.passed).toBe(true);
    expect(report.checks.length).toBeGreaterThan(EVENT_TYPES.length + 20);
    const progress = result.stderr.trim().split("\n");
    expect(progress).toHaveLength(report.checks.length);
    expect(progress[0]).toMatch(/^\[ 1\/\d+\] PASS {2}accepts user\.created$/);
  });

  it("conformance prints the failures with their rows and exits 1 for a receiver that accepts anything", async () => {
    const served = await serveHandler(async () => Response.json({ received: true }));
    cleanup.push(served.close);
    const result = await run(["conformance", "--url", served.url, "--secret", secret]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^PASS {2}accepts user\.created +expected 2xx +got 200$/m);
    expect(result.stdout).toMatch(/^FAIL {2}rejects a tampered body +expected 401 +got 200$/m);
    expect(result.stdout).toContain("  row:      same id, different body → 422, handler not run");
    expect(result.stdout).toMatch(/\n\d+ checks: \d+ passed, \d+ failed\.\n$/);
    expect(result.stderr).toMatch(
      /FAIL {2}rejects an oversize body: expected 413, got 200 {2}\(row: body over the limit → 413\)/,
    );
  });

  it("conformance stops at once, exit 3, with a hint: wrong secret, or no app at the URL", async () => {
    const target = await receiver("the receiver's other secret");
    const wrong = await run(["conformance", "--url", target.url, "--secret", secret]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toContain("Check --secret");
    expect(wrong.stdout).toContain("The other checks did not run.");

    const url = await closedUrl();
    const down = await run(["conformance", "--url", url, "--secret", secret, "--json"]);
    expect(down.code).toBe(3);
    expect(JSON.parse(down.stdout)).toMatchObject({ passed: false, stopped: { reason: "unreachable" } });
    expect(down.stderr).toContain(`Is the app running at ${new URL(url).origin}?`);
  });
});

describe("the README's command lines", () => {
  it("run the package's single bin through npx @optare/webhooks-testing, with real commands and flags", async () => {
    const manifest = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as {
      name: string;
      bin: Record<string, string>;
    };
    expect(manifest.name).toBe("@optare/webhooks-testing");
    // npx runs the only bin of a scoped package: there must be exactly one.
    expect(Object.keys(manifest.bin)).toEqual(["optare-webhooks"]);
    const readme = await readFile(join(packageDir, "README.md"), "utf8");
    // No unscoped name, which npx would look up as another package.
    expect(readme).not.toMatch(/npx optare-webhooks/);
    const invocations = readme.match(/npx @optare\/webhooks-testing[^\n`]*/g) ?? [];
    expect(invocations.length).toBeGreaterThan(5);
    // Each command line, with --help added, exits 0 only if the CLI knows its command and every flag.
    const results = await Promise.all(
      invocations.map(async (line) => {
        const words = line.split(/\s+/).slice(2).filter(Boolean);
        return {
          line,
          result: await run([...words.map((word) => word.replace(/^["']|["']$/g, "")), "--help"]),
        };
      }),
    );
    for (const { line, result } of results)
      expect({ line, code: result.code, stderr: result.stderr }).toEqual({ line, code: 0, stderr: "" });
  }, 60_000);

  it("dev and inspect: their --help, a bad command line and a port in use exit 2", async () => {
    for (const command of ["dev", "inspect"]) {
      const help = await run([command, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: optare-webhooks ${command}`));
      for (const flag of ["--forward-to", "--secret", "--port", "Exit status:"])
        expect(help.stdout).toContain(flag);
    }
    const noTarget = await run(["dev"]);
    expect([noTarget.code, noTarget.stderr]).toEqual([2, expect.stringContaining("Missing --forward-to.")]);
    const badPort = await run(["inspect", "--secret", secret, "--port", "http"]);
    expect([badPort.code, badPort.stderr]).toEqual([2, expect.stringContaining("--port must be an integer")]);

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise((resolve) => taken.close(resolve)));
    const port = String((taken.address() as AddressInfo).port);
    const inUse = await run(["inspect", "--secret", secret, "--port", port]);
    expect(inUse.code).toBe(2);
    expect(inUse.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
    expect(inUse.stderr).toContain("(port_in_use)");
  }, 60_000);

  it("hold the cooperative-mode example exactly as readme-cooperative.test.ts runs it", async () => {
    const readme = await readFile(join(packageDir, "README.md"), "utf8");
    const source = await readFile(
      fileURLToPath(new URL("./readme-cooperative.test.ts", import.meta.url)),
      "utf8",
    );
    const example = source.split("// --- README example ---\n")[1]!;
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });
});
