// Requests/second through @optare/webhooks-express (verify + parse + memory store + a no-op handler,
// a new event id per request so each one is really processed) against a bare Express 5 route that only
// runs express.json() and answers 200. Both apps run in one child process on loopback; autocannon
// drives them from this process in alternating rounds (A B, B A, …), each round a pair measured back to
// back. The verdict uses the median of the per-pair ratios: on a 2-core machine shared with the load
// generator one disturbed round moves a total-based ratio by several percent. About 55 s. Runs against the built packages
// (`pnpm build` first); express and autocannon come from packages/express's devDependencies.
import { fork } from "node:child_process";
import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(new URL("../packages/express/package.json", import.meta.url));
const secret = "0123456789abcdef".repeat(4);
const ROUNDS = 8;
const ROUND_SECONDS = 3;
const CONNECTIONS = 16;
const TARGET = 0.85;

if (process.argv[2] === "serve") await serve();
else await drive();

async function serve() {
  const express = require("express");
  const { createWebhooks, memoryStore } = require("@optare/webhooks");
  const { createWebhookMiddleware } = require("@optare/webhooks-express");
  let processed = 0;
  // Room for every event of the run: all share one timestamp, and a memory store that had to evict one
  // would refuse the rest as events it can no longer vouch for (401), which is not what this measures.
  const webhooks = createWebhooks({ secret, store: memoryStore({ maxEntries: 5_000_000 }) });
  webhooks.on("user.created", () => {
    processed++;
  });
  const adapter = express();
  adapter.set("etag", false);
  adapter.all("/webhooks/optare", createWebhookMiddleware(webhooks));
  const bare = express();
  bare.set("etag", false);
  bare.post("/webhooks/optare", express.json(), (_req, res) => {
    res.status(200).json({ received: true });
  });
  const listen = (app) =>
    new Promise((resolve) => {
      const server = app.listen(0, "127.0.0.1", () => resolve(server.address().port));
    });
  const ports = { adapter: await listen(adapter), bare: await listen(bare) };
  process.on("message", (message) => {
    if (message === "report") process.send({ processed, cpu: process.cpuUsage() });
  });
  process.send({ ports });
}

async function drive() {
  const autocannon = require("autocannon");
  const child = fork(fileURLToPath(import.meta.url), ["serve"], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const timeout = setTimeout(() => {
    console.error("benchmark exceeded 120 s; stopping");
    child.kill("SIGKILL");
    process.exit(1);
  }, 120_000);
  try {
    const { ports } = await new Promise((resolve) => child.once("message", resolve));
    let sequence = 0;
    const timestamp = new Date().toISOString();
    // A fresh, correctly signed user.created delivery for every request, for both apps alike.
    const setupRequest = (request) => {
      const body = `{"event":"user.created","timestamp":"${timestamp}","id":"evt_bench_${sequence++}","data":{"user":{"id":"user_123","email":"john@example.com","name":"John Doe","emailVerified":false,"createdAt":"${timestamp}"}},"organization":{"id":"org_abc","name":"Acme Inc"}}`;
      const signature = createHmac("sha256", secret).update(body).digest("hex");
      return {
        ...request,
        body,
        headers: { "content-type": "application/json", "x-optare-signature": signature },
      };
    };
    const report = () => {
      child.send("report");
      return new Promise((resolve) => child.once("message", resolve));
    };
    const run = async (name, seconds) => {
      const before = await report();
      const result = await autocannon({
        url: `http://127.0.0.1:${ports[name]}/webhooks/optare`,
        connections: CONNECTIONS,
        duration: seconds,
        requests: [{ method: "POST", setupRequest }],
      });
      if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
        throw new Error(
          `${name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
        );
      }
      const { cpu } = await report();
      const cpuMicros = cpu.user + cpu.system - before.cpu.user - before.cpu.system;
      return { total: result.requests.total, seconds: result.duration, cpuMicros };
    };

    let answered = (await run("adapter", 2)).total; // warm up both
    await run("bare", 2);
    const totals = {
      adapter: { requests: 0, seconds: 0, cpu: 0 },
      bare: { requests: 0, seconds: 0, cpu: 0 },
    };
    const rounds = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? ["adapter", "bare"] : ["bare", "adapter"];
      const row = { round: round + 1 };
      for (const name of order) {
        const result = await run(name, ROUND_SECONDS);
        totals[name].requests += result.total;
        totals[name].seconds += result.seconds;
        totals[name].cpu += result.cpuMicros;
        if (name === "adapter") answered += result.total;
        row[`${name} req/s`] = Math.round(result.total / result.seconds);
      }
      row.ratio = row["adapter req/s"] / row["bare req/s"];
      rounds.push(row);
    }
    const { processed } = await report();

    const adapterRate = totals.adapter.requests / totals.adapter.seconds;
    const bareRate = totals.bare.requests / totals.bare.seconds;
    const pairRatios = rounds.map((row) => row.ratio).sort((a, b) => a - b);
    const ratio = (pairRatios[(pairRatios.length - 1) >> 1] + pairRatios[pairRatios.length >> 1]) / 2;
    const cpuPerRequest = (name) => totals[name].cpu / totals[name].requests;
    console.log(`\nExpress adapter vs bare express.json() route (${CONNECTIONS} connections, loopback)`);
    console.table(rounds.map((row) => ({ ...row, ratio: row.ratio.toFixed(2) })));
    console.log(
      `adapter: ${Math.round(adapterRate)} req/s (every request verified, parsed, stored, handled)`,
    );
    console.log(`bare:    ${Math.round(bareRate)} req/s`);
    console.log(
      `ratio:   ${ratio.toFixed(2)}x median of ${ROUNDS} paired rounds ` +
        `(range ${pairRatios[0].toFixed(2)}–${pairRatios.at(-1).toFixed(2)}, all rounds pooled ` +
        `${(adapterRate / bareRate).toFixed(2)}x)  (target >= ${TARGET}x: ${ratio >= TARGET ? "met" : "NOT met"})`,
    );
    // Server CPU per request is steadier than req/s when other processes share the cores.
    const cpu = { adapter: cpuPerRequest("adapter"), bare: cpuPerRequest("bare") };
    console.log(
      `server CPU per request: adapter ${cpu.adapter.toFixed(0)} µs, bare ${cpu.bare.toFixed(0)} µs ` +
        `(ratio on server CPU: ${(cpu.bare / cpu.adapter).toFixed(2)}x)`,
    );
    console.log(`the adapter answered 200 to ${answered} deliveries; its handler ran ${processed} times`);
  } finally {
    clearTimeout(timeout);
    child.kill();
  }
}
