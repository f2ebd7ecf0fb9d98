// The inspector end to end, in a real headless Chromium: the `optare-webhooks dev` and `inspect` commands
// (spawned from source, as cli.test.ts does) in front of the real Express example app, built and started
// as a server. Each page's screenshot is written to packages/testing/docs/ for the README.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sign } from "@optare/webhooks";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../../../../examples/e2e-suite";
import { createEvent } from "../fixtures";

const CHROMIUM = "/usr/bin/chromium";
const root = fileURLToPath(new URL("../../../..", import.meta.url));
const example = join(root, "examples/express");
const docs = fileURLToPath(new URL("../../docs/", import.meta.url));
const secret = "0123456789abcdef".repeat(4);
/** The example app fails the first attempt of each event of this type (its FAIL_ONCE_EVENT_TYPE). */
const FAILS_ONCE = "user.updated";
/** Long enough for a cold start on a loaded 2-core machine; every wait is on a condition, not a duration. */
const WAIT = { timeout: 30_000 };

const hasChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === "true";
if (!hasChromium && !inCi) {
  console.warn(
    `\n⚠️  SKIPPING the inspector's browser tests: no Chromium at ${CHROMIUM}. Install it (apt-get install chromium); under CI=true its absence fails.\n`,
  );
}

interface Cli {
  url: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

/**
 * Spawns `optare-webhooks <args>` from source and waits until it prints the page's URL. `node --import tsx`
 * rather than the tsx binary: tsx's parent process turns a signal its child is slow (30 ms) to report into
 * exit status 130, and `stop` checks the CLI's own answer to Ctrl+C.
 */
async function startCli(args: string[]): Promise<Cli> {
  const cli = join(root, "packages/testing/src/cli.ts");
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", cli, ...args], {
    cwd: root,
    env: { ...process.env, OPTARE_WEBHOOK_SECRET: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const read = (chunk: Buffer) => {
      output += chunk;
      const found = /open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (found) resolve(found[1]!);
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    void exited.then((code) => reject(new Error(`optare-webhooks exited with ${code}:\n${output}`)));
  });
  return {
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGINT");
      return exited;
    },
  };
}

/** The Express example built from its source with its own tsup options, into a directory only this test uses
 * (examples/express's e2e test rebuilds dist/ with --clean, possibly at the same time). */
function buildExample(): string {
  const out = "node_modules/.cache/optare-inspector-e2e";
  const result = spawnSync(
    join(example, "node_modules/.bin/tsup"),
    ["src/server.ts", "--format", "esm", "--target", "node20", "--clean", "--out-dir", out],
    { cwd: example, encoding: "utf8", timeout: 120_000 },
  );
  if (result.status !== 0)
    throw new Error(`building examples/express failed:\n${result.stdout}\n${result.stderr}`);
  return `${out}/server.js`;
}

async function waitForReady(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator("body[data-ready=true]").waitFor(WAIT);
}

/** The id the page reports after a send ("Sent: evt_…."). */
async function sentId(page: Page): Promise<string> {
  const status = page.locator("#send-result");
  await status.filter({ hasText: /: evt_\w+\.$/ }).waitFor(WAIT);
  return /(evt_\w+)\.$/.exec((await status.textContent()) ?? "")![1]!;
}

/** The list item of attempt `n` of `eventId`, once its status is `status`. */
const attempt = (page: Page, eventId: string, n: number, status: number) =>
  page.locator(`#deliveries li[data-event-id="${eventId}"][data-attempt="${n}"][data-status="${status}"]`);

describe.skipIf(!hasChromium && !inCi)("the inspector in Chromium", { timeout: 120_000 }, () => {
  let browser: Browser;
  let app: RunningServer;
  const hook = () => `${app.url}/webhooks/optare`;

  beforeAll(async () => {
    if (!hasChromium)
      throw new Error(`CI=true and no Chromium at ${CHROMIUM}: install it (apt-get install chromium).`);
    await mkdir(docs, { recursive: true });
    app = await startServer(example, [buildExample()], secret, {
      env: { DATABASE_URL: undefined, OPTARE_QUEUE_URL: undefined, FAIL_ONCE_EVENT_TYPE: FAILS_ONCE },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await app?.stop();
  });

  it("dev: sends to the Express app (200), shows a failed attempt (500) retried by 'Run retries now' (200), a tampered signature (401), live field errors", async () => {
    const cli = await startCli(["dev", "--forward-to", hook(), "--secret", secret, "--port", "0"]);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await waitForReady(page, cli.url);
      expect(await page.locator("#target").textContent()).toBe(hook());
      expect(await page.getByLabel("Secret").inputValue()).toBe(secret);

      // A delivered event.
      await page.getByLabel("Event type").selectOption("user.created");
      await page.getByRole("button", { name: "Send", exact: true }).click();
      const delivered = await sentId(page);
      await attempt(page, delivered, 1, 200).waitFor(WAIT);
      expect(await attempt(page, delivered, 1, 200).locator(".badge").first().textContent()).toBe("HTTP 200");

      // The app fails the first attempt; "Run retries now" makes attempt 2, which succeeds.
      await page.getByLabel("Event type").selectOption(FAILS_ONCE);
      await page.getByRole("button", { name: "Send", exact: true }).click();
      const failing = await sentId(page);
      await attempt(page, failing, 1, 500).waitFor(WAIT);
      expect(await attempt(page, failing, 1, 500).textContent()).toContain("next retry");
      await page.getByRole("button", { name: "Run retries now" }).click();
      await attempt(page, failing, 2, 200).waitFor(WAIT);

      // A tampered signature, sent from the keyboard: the app answers 401.
      await page.getByLabel("Event type").selectOption("user.created");
      await page.getByRole("button", { name: "Send with tampered signature" }).focus();
      await page.keyboard.press("Enter");
      const tampered = await sentId(page);
      await attempt(page, tampered, 1, 401).waitFor(WAIT);
      expect(await attempt(page, tampered, 1, 401).textContent()).toContain("tampered signature");

      // Live validation: a wrong type shows its field and the reason.
      const payload = page.getByLabel("Payload");
      await payload.fill((await payload.inputValue()).replace('"john@example.com"', "5"));
      await page.locator("#validation").getByText("user.email").waitFor(WAIT);
      expect(await page.locator("#validation").textContent()).toContain(
        "user.email: expected string, got number 5",
      );
      expect(await payload.getAttribute("aria-invalid")).toBe("true");

      await page.screenshot({ path: join(docs, "inspector-dev.png"), fullPage: true });
      expect(cli.output()).toMatch(new RegExp(`✓ 200  user\\.created  ${delivered}  attempt 1`));
      expect(cli.output()).toMatch(
        new RegExp(`✗ 500  ${FAILS_ONCE.replace(".", "\\.")}  ${failing}  attempt 1`),
      );
      expect(cli.output()).toMatch(
        new RegExp(`✓ 200  ${FAILS_ONCE.replace(".", "\\.")}  ${failing}  attempt 2`),
      );
    } finally {
      await page.close();
      expect(await cli.stop()).toBe(0);
    }
  });

  it("inspect: shows a tampered request as invalid (wrong secret) and a valid one as valid, forwarded to the app", async () => {
    const cli = await startCli(["inspect", "--secret", secret, "--port", "0", "--forward-to", hook()]);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await waitForReady(page, cli.url);
      const receiveUrl = (await page.locator("#receive-url").textContent())!;
      expect(receiveUrl).toBe(`${cli.url}webhooks/optare`);
      const post = (body: string, signature: string) =>
        fetch(receiveUrl, {
          method: "POST",
          headers: { "content-type": "application/json", "x-optare-signature": signature },
          body,
        });

      const body = JSON.stringify(createEvent("member.added"));
      const good = await post(body, sign(body, secret));
      expect(good.status).toBe(200); // the app's answer, relayed
      const tampered = await post(body.replace("john@example.com", "eve@example.com"), sign(body, secret));
      expect(tampered.status).toBe(401);

      const invalid = page.locator("#captures li[data-verdict='wrong_secret']");
      await invalid.waitFor(WAIT);
      expect(await invalid.locator(".badge").first().textContent()).toBe("signature: wrong secret");
      expect(await invalid.textContent()).toContain("forwarded: HTTP 401");
      const valid = page.locator("#captures li[data-verdict='valid']");
      expect(await valid.locator(".badge").first().textContent()).toBe("signature valid");
      expect(await valid.textContent()).toContain("✓ Schema: valid.");
      await invalid.getByText("Raw body").click();
      expect(await invalid.locator("pre").first().textContent()).toContain("eve@example.com");

      await page.screenshot({ path: join(docs, "inspector-inspect.png"), fullPage: true });
      expect(cli.output()).toContain("signature: wrong_secret");
    } finally {
      await page.close();
      expect(await cli.stop()).toBe(0);
    }
  });
});
