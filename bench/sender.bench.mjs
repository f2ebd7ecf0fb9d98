// The reference sender against a local keep-alive node:http receiver on 127.0.0.1:
// 1. deliveries per second through `sender.emit()` next to raw HTTP clients, same concurrency, same
//    receiver, same run: Node's own `http.request` on a keep-alive Agent (the baseline: the machine's raw
//    HTTP client), undici's dispatcher on a keep-alive Agent (the client the sender uses, sending a
//    pre-signed body: the floor the sender's own work is measured against) and a keep-alive `fetch`
//    loop. Target: sender ≥ 0.8× the baseline. Also printed: sender / raw undici, its own overhead.
// 2. heap for 100,000 pending retries: a receiver that answers 503, a virtual clock so the retries stay
//    scheduled. Target ≤ 100 MiB (heap measured in MiB, 2^20 bytes).
// Runs against the built packages: `pnpm build && node --expose-gc bench/sender.bench.mjs`. Bounded:
// fixed request counts, and the retry phase stops at a deadline.
// A/B: `SENDER_COMPARE=/path/to/other/build/dist/index.js` adds that build's `emit()` to the throughput
// table, interleaved with the rest in the same run (the receipt for an optimisation: build without it,
// copy the dist aside, build with it, compare).
import { createHmac } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import { Worker } from "node:worker_threads";
import { createSender, createVirtualClock } from "@optare/webhooks-sender";
import { Agent as UndiciAgent } from "undici";
import { compareAsync } from "./harness.mjs";

if (typeof globalThis.gc !== "function") {
  console.error("Run with --expose-gc: node --expose-gc bench/sender.bench.mjs");
  process.exit(2);
}

const CONCURRENCY = 16;
const PENDING_RETRIES = 100_000;
const HEAP_TARGET_MB = 100;
const RATIO_TARGET = 0.8;
const DEADLINE = Date.now() + 55_000;

const organization = { id: "org_bench", name: "Bench Inc" };
const data = {
  user: {
    id: "user_123",
    email: "john@example.com",
    name: "John Doe",
    emailVerified: false,
    createdAt: "2025-11-11T10:30:00Z",
  },
};

// The receivers run in a worker thread, so the client side (raw or sender) has the main thread to itself.
const RECEIVER = `
  const http = require("node:http");
  const { parentPort, workerData } = require("node:worker_threads");
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(workerData.status, { "content-type": "application/json", "content-length": 17 });
      res.end('{"received":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => parentPort.postMessage(server.address().port));
`;

async function listen(status) {
  const worker = new Worker(RECEIVER, { eval: true, workerData: { status } });
  const [port] = await once(worker, "message");
  return { url: `http://127.0.0.1:${port}/webhooks/optare`, close: () => worker.terminate() };
}

function check(response) {
  if (response.status !== 200) throw new Error(`receiver answered ${response.status}`);
}

// ---- 1. Throughput -------------------------------------------------------------------------------
const ok = await listen(200);
const sender = createSender({ allowInsecure: true, concurrency: CONCURRENCY, clock: createVirtualClock() });
const compareWith = process.env.SENDER_COMPARE;
const other = compareWith
  ? (await import(compareWith)).createSender({ allowInsecure: true, concurrency: CONCURRENCY })
  : null;
if (other) await other.createWebhook(organization.id, ok.url, ["user.created"]);
const hook = await sender.createWebhook(organization.id, ok.url, ["user.created"]);

// The raw clients send a body of the same size as the sender's envelope, signed once up front.
const sample = (await sender.emit("user.created", data, organization)).body;
const signature = createHmac("sha256", hook.secret).update(sample).digest("hex");
const headers = { "content-type": "application/json", "x-optare-signature": signature };
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
const target = new URL(ok.url);

function viaHttpRequest() {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: target.hostname, port: target.port, path: target.pathname, method: "POST", agent, headers },
      (res) => {
        // Reads the response body as text, as the sender must (it records the body's start in every
        // delivery record): a baseline that discarded it would skip work the contract requires.
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => {
          Buffer.concat(chunks).subarray(0, 1024).toString("utf8");
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`));
        });
      },
    );
    req.on("error", reject);
    req.end(sample);
  });
}

// The sender's own client, driven directly: the same dispatch it makes, minus envelope, signing and record.
const undici = new UndiciAgent({ connections: CONCURRENCY });
const headerList = Object.entries(headers).flat();
function viaUndici() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let status = 0;
    undici.dispatch(
      { origin: target.origin, path: target.pathname, method: "POST", headers: headerList, body: sample },
      {
        onRequestStart() {},
        onResponseStart(_controller, statusCode) {
          status = statusCode;
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          Buffer.concat(chunks).subarray(0, 1024).toString("utf8");
          status === 200 ? resolve() : reject(new Error(`HTTP ${status}`));
        },
        onResponseError(_controller, error) {
          reject(error);
        },
      },
    );
  });
}

console.log(
  "\nNote: the raw http.request baseline reads each response body into a string (cut to 1 KiB), " +
    "as the sender must for its delivery records; it used to discard it with res.resume().",
);
const ratios = await compareAsync(
  `Delivery throughput to a keep-alive node:http receiver on loopback, ${CONCURRENCY} concurrent`,
  [
    { name: "raw http.request (keep-alive Agent)", baseline: true, fn: viaHttpRequest },
    { name: "raw undici dispatch (keep-alive)", fn: viaUndici },
    {
      name: "raw fetch (undici, keep-alive)",
      fn: async () => {
        const response = await fetch(ok.url, { method: "POST", headers, body: sample, redirect: "manual" });
        await response.text();
        check(response);
      },
    },
    {
      name: "sender.emit() (envelope + sign + POST + record)",
      fn: async () => {
        const { deliveries } = await sender.emit("user.created", data, organization);
        if (!deliveries[0]?.success) throw new Error(`delivery failed: ${deliveries[0]?.error}`);
      },
    },
    ...(other
      ? [
          {
            name: "sender.emit(), SENDER_COMPARE build",
            fn: async () => {
              const { deliveries } = await other.emit("user.created", data, organization);
              if (!deliveries[0]?.success) throw new Error(`delivery failed: ${deliveries[0]?.error}`);
            },
          },
        ]
      : []),
  ],
  { rounds: 11, batch: 1500, concurrency: CONCURRENCY },
);
await sender.close();
await other?.close();
agent.destroy();
await undici.close();
await ok.close();

const senderRatio = ratios["sender.emit() (envelope + sign + POST + record)"];
const fetchRatio = ratios["raw fetch (undici, keep-alive)"];
const undiciRatio = ratios["raw undici dispatch (keep-alive)"];
console.log(
  `sender / raw http.request = ${senderRatio.toFixed(2)}× (target ≥ ${RATIO_TARGET}×); ` +
    `sender / raw undici = ${(senderRatio / undiciRatio).toFixed(2)}× (the sender's own work: ` +
    `envelope, id, HMAC, timeout, record); sender / raw fetch = ${(senderRatio / fetchRatio).toFixed(2)}×`,
);
if (other) {
  const otherRatio = ratios["sender.emit(), SENDER_COMPARE build"];
  console.log(`sender / SENDER_COMPARE build = ${(senderRatio / otherRatio).toFixed(2)}× (${compareWith})`);
}

// ---- 2. Memory of pending retries ----------------------------------------------------------------
// 100 endpoints × 1,000 events: the first attempt of each of the 100,000 deliveries fails (503) over
// real HTTP, and its retry waits on the virtual clock, which never advances.
const ENDPOINTS = 100;
const failing = await listen(503);
const clock = createVirtualClock();
const retrying = createSender({ allowInsecure: true, concurrency: 64, clock });
for (let i = 0; i < ENDPOINTS; i++)
  await retrying.createWebhook(organization.id, failing.url, ["user.created"]);

function heapMb() {
  globalThis.gc();
  globalThis.gc();
  const { heapUsed, external } = process.memoryUsage();
  return { heap: heapUsed / 2 ** 20, external: external / 2 ** 20 };
}

const before = heapMb();
const started = Date.now();
const events = PENDING_RETRIES / ENDPOINTS;
let emitted = 0;
// Emit in waves, keeping nothing but what the sender itself holds.
while (emitted < events && Date.now() < DEADLINE) {
  const wave = [];
  for (let i = 0; i < 8 && emitted < events; i++, emitted++)
    wave.push(retrying.emit("user.created", data, organization));
  await Promise.all(wave);
}
await retrying.drain();
const seconds = (Date.now() - started) / 1000;
const after = heapMb();
const pending = retrying.pendingRetries;
const heapDelta = after.heap - before.heap;
const externalDelta = after.external - before.external;
const total = heapDelta + Math.max(0, externalDelta);
console.log(
  `\nPending retries: ${pending.toLocaleString("en")} (${ENDPOINTS} endpoints × ${emitted.toLocaleString("en")} events, ` +
    `first attempts failed over HTTP in ${seconds.toFixed(1)} s; virtual clock timers: ${clock.pending.toLocaleString("en")})`,
);
console.log(
  `Heap delta after GC: ${heapDelta.toFixed(1)} MiB (+ ${externalDelta.toFixed(1)} MiB external) = ` +
    `${total.toFixed(1)} MiB, ${((total * 2 ** 20) / Math.max(1, pending)).toFixed(0)} bytes per pending retry ` +
    `(target ≤ ${HEAP_TARGET_MB} MiB for 100,000)`,
);
await retrying.close();
await failing.close();

const complete = pending === PENDING_RETRIES;
const verdicts = [
  [
    senderRatio >= RATIO_TARGET,
    `sender throughput ≥ ${RATIO_TARGET}× raw http.request (Node's own HTTP client)`,
  ],
  [senderRatio / fetchRatio >= RATIO_TARGET, `sender throughput ≥ ${RATIO_TARGET}× raw fetch`],
  [
    complete,
    `all ${PENDING_RETRIES.toLocaleString("en")} retries pending (stopped early at the deadline otherwise)`,
  ],
  [
    complete && total <= HEAP_TARGET_MB,
    `${PENDING_RETRIES.toLocaleString("en")} pending retries ≤ ${HEAP_TARGET_MB} MiB`,
  ],
];
for (const [passed, label] of verdicts) console.log(`${passed ? "✓" : "✗"} ${label}`);
