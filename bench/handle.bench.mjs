// createWebhooks().handle throughput with no idempotency, the memory store and the Redis store
// (ioredis and node-redis, against the real Redis on 127.0.0.1:6379), and the Redis round trips per
// event, counted on the client and on the server. Runs against the built packages.
import { createHmac } from "node:crypto";
import { createWebhooks, memoryStore } from "@optare/webhooks";
import { redisStore } from "@optare/webhooks-redis";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { compareAsync } from "./harness.mjs";

const secret = "0123456789abcdef".repeat(4);
const timestamp = new Date().toISOString();
const prefix = `optare:bench:${process.pid}:`;

// Each call is a distinct event (a repeated id would only measure the duplicate path).
function request(name, i) {
  const body = `{"event":"user.created","timestamp":"${timestamp}","id":"evt_${name}_${i}","data":{"user":{"id":"user_123","email":"john@example.com","name":"John Doe","emailVerified":false,"createdAt":"${timestamp}"}},"organization":{"id":"org_abc","name":"Acme Inc"}}`;
  const signature = createHmac("sha256", secret).update(body).digest("hex");
  return new Request("http://localhost/webhooks/optare", {
    method: "POST",
    body,
    headers: { "content-type": "application/json", "x-optare-signature": signature },
  });
}

function receiver(store) {
  const webhooks = createWebhooks({ secret, store });
  webhooks.on("user.created", () => {});
  return async (name, i) => {
    const response = await webhooks.handle(request(name, i));
    if (response.status !== 200) throw new Error(`${name}: ${response.status} ${await response.text()}`);
  };
}

// Counts what each client sends, to prove claim + complete is two round trips.
let clientCalls = 0;
const ioredis = new Redis("redis://127.0.0.1:6379");
const countingIoredis = {
  call: (...args) => {
    clientCalls++;
    return ioredis.call(...args);
  },
};
const nodeRedis = await createClient({ url: "redis://127.0.0.1:6379" }).connect();

const none = receiver(false);
const memory = receiver(memoryStore({ maxEntries: 100_000 }));
const viaIoredis = receiver(redisStore({ client: countingIoredis, prefix: `${prefix}io:` }));
const viaNodeRedis = receiver(redisStore({ client: nodeRedis, prefix: `${prefix}nr:` }));

async function evalCallsOnServer() {
  const stats = await ioredis.info("commandstats");
  return Number(/cmdstat_eval:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

// Round trips per processed event, counted twice: by the client wrapper and by Redis itself.
const events = 500;
const serverBefore = await evalCallsOnServer();
clientCalls = 0;
for (let i = 0; i < events; i++) await viaIoredis("trips", i);
const perEventClient = clientCalls / events;
const perEventServer = ((await evalCallsOnServer()) - serverBefore) / events; // other EVAL clients would inflate it
console.log(
  `\nRedis round trips per processed event: ${perEventClient} sent by the client, ${perEventServer.toFixed(2)} EVALs seen by the server (claim + complete = 2)`,
);

const ratios = await compareAsync(
  "handle(): verify + parse + validate + idempotency + no-op handler, 16 concurrent",
  [
    { name: "no idempotency (store: false)", fn: (i) => none("none", i), baseline: true },
    { name: "memoryStore()", fn: (i) => memory("memory", i) },
    { name: "redisStore (ioredis)", fn: (i) => viaIoredis("io", i) },
    { name: "redisStore (node-redis)", fn: (i) => viaNodeRedis("nr", i) },
  ],
);

// Clean up the bench's keys.
for (const pattern of [`${prefix}*`]) {
  let cursor = "0";
  do {
    const [next, keys] = await ioredis.scan(cursor, "MATCH", pattern, "COUNT", 5000);
    cursor = next;
    if (keys.length) await ioredis.del(...keys);
  } while (cursor !== "0");
}
ioredis.disconnect();
await nodeRedis.quit();

const exact = perEventClient === 2 && Math.abs(perEventServer - 2) < 0.01;
console.log(`${exact ? "✓" : "✗"} claim + complete cost exactly two Redis round trips`);
console.log(
  `memory store keeps ${(ratios["memoryStore()"] * 100).toFixed(0)}% of the no-idempotency throughput`,
);
if (!exact) process.exitCode = 1;
