// `pnpm demo`: the Express example app receives every Optare event type from the reference sender over
// real HTTP on loopback. One handler fails once, so its event is retried on Optare's schedule; retries
// run on the sender's virtual clock, so the 1-minute wait takes no time.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { EVENT_TYPES } from "@optare/webhooks";
import { createSender, createVirtualClock, type DeliveryRecord } from "@optare/webhooks-sender";
import { fixtures } from "@optare/webhooks-testing";
import { createApp } from "../examples/express/src/app";

const organization = { id: "org_demo", name: "Acme Inc" };
const clock = createVirtualClock();
let delivered = 0;
const sender = createSender({
  clock,
  allowInsecure: true, // http://127.0.0.1 is fine for a local demo; production endpoints must be HTTPS
  onDelivery: (record) => {
    delivered++;
    const line = `  deliveries: ${delivered}, last ${record.event} → ${record.statusCode}, retries pending: ${sender.pendingRetries}`;
    if (process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(100)}`);
    else if (!record.success || delivered % 10 === 0) console.log(line);
  },
});

// The receiver: the examples/express app on a free port, with its default memory store. The port comes
// first, then the endpoint (which mints the secret), then the app with that secret.
const server = createServer();
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/optare`;
const endpoint = await sender.createWebhook(organization.id, url, EVENT_TYPES);
const { app, webhooks, processed } = createApp({ secret: endpoint.secret });
server.on("request", app);
let failedOnce = false;
webhooks.on("member.invitation.accepted", () => {
  if (failedOnce) return;
  failedOnce = true;
  throw new Error("CRM timed out (simulated, first attempt only)");
});

console.log(
  `Optare webhooks demo\n  receiver: examples/express at ${url}\n  sender:   @optare/webhooks-sender, endpoint ${endpoint.id}`,
);
console.log(`  emitting all ${EVENT_TYPES.length} event types…`);
const started = performance.now();
for (const type of EVENT_TYPES) await sender.emit(type, fixtures[type], organization);
await sender.drain();
const virtualStart = clock.now();
await clock.runAll(); // the retry of the failed delivery, 1 virtual minute later
await sender.drain();
const elapsed = performance.now() - started;
process.stdout.write("\n");

const history: DeliveryRecord[] = (await sender.listDeliveries(endpoint.id, 50)).reverse();
console.table(
  history.map((record) => ({
    event: record.event,
    attempt: record.attempt,
    status: record.statusCode,
    ok: record.success ? "yes" : "no",
    ms: Number(record.durationMs.toFixed(1)),
    note: record.success ? "" : `${record.responseBody ?? record.error ?? ""}`.slice(0, 60),
  })),
);

const retried = history.filter((record) => record.attempt > 1);
const listed = (await (await fetch(new URL("/events", url))).json()) as string[];
const everyTypeProcessed = listed.length === EVENT_TYPES.length && listed.join() === processed.join();
console.log(
  `${everyTypeProcessed ? "✓" : "✗"} ${listed.length}/${EVENT_TYPES.length} events processed by the app, as GET /events lists them`,
);
console.log(
  `✓ ${retried.length} retry: the failed delivery came back ${(clock.now() - virtualStart) / 60_000} virtual minute(s) later and succeeded`,
);
console.log(`  finished in ${(elapsed / 1000).toFixed(2)} s of real time (retries ran on a virtual clock)`);

await sender.close();
server.close();
if (!everyTypeProcessed || retried.length !== 1 || !retried[0]?.success) process.exitCode = 1;
