// The README's cooperative-mode example, verbatim from the line below (a test in cli.test.ts keeps the
// README's copy identical): a user's vitest suite running the kit in-process against their receiver.
// --- README example ---
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhooks } from "@optare/webhooks";
import { createNodeHandler } from "@optare/webhooks/node";
import { cooperate, runConformance } from "@optare/webhooks-testing";
import { afterAll, expect, test } from "vitest";

const secret = "0123456789abcdef".repeat(4);

// Your receiver, built as your app builds it (same handlers, same store), with a short ack deadline so
// that the deadline check takes half a second rather than 25, and quiet: the kit sends bad requests.
const welcomed: string[] = [];
const webhooks = createWebhooks({ secret, ackTimeoutMs: 500, logger: false });
webhooks.on("user.created", (event) => {
  welcomed.push(event.data.user.email); // … your handler
});

// From test code only: lets the kit make a handler throw or wait for its own event ids.
const cooperative = cooperate(webhooks);

const server = createServer(createNodeHandler(webhooks)).listen(0, "127.0.0.1");
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

test("the receiver honours the Optare webhook contract, cooperative rows included", async () => {
  await new Promise((resolve) => (server.listening ? resolve(null) : server.once("listening", resolve)));
  const { port } = server.address() as AddressInfo;
  const report = await runConformance({
    url: `http://127.0.0.1:${port}/webhooks/optare`,
    secret,
    cooperative,
    ackTimeoutMs: 500,
  });
  expect(report.checks.filter((check) => !check.passed)).toEqual([]);
}, 30_000);
