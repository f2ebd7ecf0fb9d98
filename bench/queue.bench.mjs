// Queue mode (@optare/webhooks-bullmq) against inline mode, in one run, on the real Redis at
// 127.0.0.1:6379 (a queue of this run's own, obliterated at the end). Requests go straight to
// `webhooks.handle(Request)` (no HTTP), each a distinct event:
// - inline: createWebhooks({ secret, store: memoryStore() }) — verify the signature, parse and validate
//   the event, claim its id in the memory store, run the handler, mark the id completed, then answer 200.
// - queue: createWebhooks({ secret, queue: bullmqQueue({ connection }) }) — the same verify + parse +
//   validate, then BullMQ's add (one EVALSHA: the job, its id as the event id) and a read-back of the job
//   (one HGETALL: its token tells queued, duplicate or conflict), then answer 200 `queued`: two round
//   trips, counted below. No handler runs here.
// A worker (createWorker, concurrency 64, no store) in a CHILD PROCESS (this file, forked with `worker`)
// runs the queued events' handlers during the latency part, so the queue stays short; it is paused during
// the throughput part (those ~20,000 jobs wait in Redis) and then drains them, timed. About 30 s.
// 1. Answer latency, p50/p99, with a handler that takes 20 ms (a timer): inline answers after it, queue
//    mode once Redis holds the job. One request at a time, then 16 at a time; the modes alternate in
//    chunks so drift hits both alike.
// 2. Requests/s with a no-op handler, queue mode as a ratio of inline (memory store), 16 concurrent.
// Runs against the built packages (`pnpm build` first).
import { fork } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createRouter, createWebhooks, memoryStore } from "@optare/webhooks";
import { bullmqQueue, createWorker } from "@optare/webhooks-bullmq";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { compareAsync } from "./harness.mjs";

const connection = { host: "127.0.0.1", port: 6379 };
const secret = "0123456789abcdef".repeat(4);
const HANDLER_MS = 20;
const WORKER_CONCURRENCY = 64;
const THROUGHPUT_CONCURRENCY = 16;
/** Per mode: requests sent one at a time, and 16 at a time, in chunks of CHUNK alternating the modes. */
const SEQUENTIAL = 288;
const CONCURRENT = 1_536;
const CHUNK = 48;
/** Enqueues counted one by one for the Redis commands per request. */
const COUNTED = 300;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The handler both modes run: 20 ms for the latency part's events, nothing for the others. */
async function handler(event) {
  if (event.id.includes("_slow_")) await sleep(HANDLER_MS);
}

if (process.argv[2] === "worker") await work(process.argv[3]);
else await drive();

/** The child: a worker on queue `name`, paused and resumed on the parent's word. */
async function work(name) {
  const router = createRouter().onAny(handler);
  const { worker, close } = createWorker(router, {
    connection,
    name,
    concurrency: WORKER_CONCURRENCY,
    handleSignals: false,
    logger: false,
  });
  let ran = 0;
  worker.on("completed", () => ran++);
  process.on("message", async (message) => {
    if (message === "pause") await worker.pause();
    else if (message === "resume") worker.resume();
    else if (message === "close") {
      await close();
      process.send({ closed: ran, cpu: process.cpuUsage() });
      process.disconnect();
      return;
    }
    process.send({ [message]: true, ran });
  });
  await worker.waitUntilReady();
  process.send({ ready: true });
}

async function drive() {
  const run = randomUUID().slice(0, 8);
  const name = `optare-bench-${run}`;
  const timestamp = new Date().toISOString();

  // Each call is a distinct event (a repeated id would only measure the duplicate path).
  function request(kind, i) {
    const body = `{"event":"user.created","timestamp":"${timestamp}","id":"evt_${run}_${kind}_${i}","data":{"user":{"id":"user_123","email":"john@example.com","name":"John Doe","emailVerified":false,"createdAt":"${timestamp}"}},"organization":{"id":"org_abc","name":"Acme Inc"}}`;
    const signature = createHmac("sha256", secret).update(body).digest("hex");
    return new Request("http://localhost/webhooks/optare", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-optare-signature": signature },
    });
  }

  const inlineWebhooks = createWebhooks({
    secret,
    store: memoryStore({ maxEntries: 100_000 }),
    logger: false,
  });
  inlineWebhooks.onAny(handler);
  const queue = bullmqQueue({ connection, name });
  const queueWebhooks = createWebhooks({ secret, queue, logger: false });
  queueWebhooks.onAny(handler); // never run here: the worker's router has the same handler
  const receive = (webhooks, expected) => async (kind, i) => {
    const response = await webhooks.handle(request(kind, i));
    const text = await response.text();
    if (response.status !== 200 || !text.includes(expected)) throw new Error(`${response.status} ${text}`);
  };
  const inline = receive(inlineWebhooks, '"received":true');
  const queued = receive(queueWebhooks, '"queued":true');
  let enqueued = 0;
  const enqueue = async (kind, i) => {
    await queued(kind, i);
    enqueued++;
  };

  const jobs = new Queue(name, { connection });
  const redis = new Redis(connection);
  const child = fork(fileURLToPath(import.meta.url), ["worker", name], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const guard = setTimeout(() => {
    console.error("queue bench exceeded 180 s; stopping");
    child.kill("SIGKILL");
    process.exit(1);
  }, 180_000);
  const tell = (message) =>
    new Promise((resolve) => {
      child.once("message", resolve);
      child.send(message);
    });
  await new Promise((resolve) => child.once("message", resolve)); // ready
  const backlog = async () => {
    const counts = await jobs.getJobCounts("waiting", "active", "delayed", "prioritized");
    return counts.waiting + counts.active + counts.delayed + counts.prioritized;
  };
  /** Waits (at most `ms`) until the worker has completed every job queued so far. */
  async function drained(ms) {
    const start = performance.now();
    for (let i = 0; i < ms / 20; i++) {
      if ((await jobs.getCompletedCount()) >= enqueued && (await backlog()) === 0) break;
      await sleep(20);
    }
    return { ms: performance.now() - start, completed: await jobs.getCompletedCount() };
  }

  // --- 1. Answer latency with a 20 ms handler (worker draining in the child) --------------------

  function percentile(values, p) {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  }
  /** `total` calls per mode, `concurrency` at a time, the modes alternating every CHUNK calls. */
  async function latencies(total, concurrency, label) {
    const modes = { inline: { fn: inline, ms: [] }, queue: { fn: enqueue, ms: [] } };
    let maxBacklog = 0;
    for (let done = 0, round = 0; done < total; done += CHUNK, round++) {
      const order = round % 2 === 0 ? ["inline", "queue"] : ["queue", "inline"];
      for (const mode of order) {
        const { fn, ms } = modes[mode];
        for (let sent = done; sent < Math.min(done + CHUNK, total); sent += concurrency) {
          const wave = [];
          for (let k = 0; k < concurrency && sent + k < Math.min(done + CHUNK, total); k++) {
            const start = performance.now();
            wave.push(fn(`slow_${label}_${mode}`, sent + k).then(() => ms.push(performance.now() - start)));
          }
          await Promise.all(wave);
        }
      }
      if (round % 4 === 0) maxBacklog = Math.max(maxBacklog, await backlog());
    }
    return { inline: modes.inline.ms, queue: modes.queue.ms, maxBacklog };
  }

  // Warm up both paths (and the queue's connection) before measuring.
  for (let i = 0; i < 200; i++) await Promise.all([inline("warm", i), enqueue("warm", i)]);
  const one = await latencies(SEQUENTIAL, 1, "one");
  const sixteen = await latencies(CONCURRENT, 16, "sixteen");
  const afterLatency = await drained(30_000);

  const row = (ms) => ({ p50: percentile(ms, 50).toFixed(2), p99: percentile(ms, 99).toFixed(2) });
  console.log(
    `\nAnswer latency, handle() to its Response, handler ${HANDLER_MS} ms (ms; worker: a child process, concurrency ${WORKER_CONCURRENCY}, draining meanwhile)`,
  );
  console.table({
    [`inline, 1 at a time (${SEQUENTIAL})`]: row(one.inline),
    [`queue, 1 at a time (${SEQUENTIAL})`]: row(one.queue),
    [`inline, 16 at a time (${CONCURRENT})`]: row(sixteen.inline),
    [`queue, 16 at a time (${CONCURRENT})`]: row(sixteen.queue),
  });
  console.log(
    `  queue backlog sampled during the latency runs: at most ${Math.max(one.maxBacklog, sixteen.maxBacklog)} jobs; drained ${Math.round(afterLatency.ms)} ms after the last request`,
  );

  // --- 2. Throughput with a no-op handler (worker paused) -----------------------------------------

  await tell("pause");
  // Round trips per request, counted on a client of our own (every command ioredis sends), and what
  // Redis executes for them (INFO commandstats also counts the commands inside BullMQ's scripts).
  const counting = new Redis(connection);
  const sent = new Map();
  const send = counting.sendCommand.bind(counting);
  counting.sendCommand = (command, stream) => {
    sent.set(command.name, (sent.get(command.name) ?? 0) + 1);
    return send(command, stream);
  };
  const countingQueue = bullmqQueue({ connection: counting, name });
  const countingEnqueue = receive(createWebhooks({ secret, queue: countingQueue, logger: false }), "queued");
  for (let i = 0; i < 20; i++) await countingEnqueue("count_warm", i); // connection set-up, script loads
  sent.clear();
  const before = await commandCalls(redis);
  for (let i = 0; i < COUNTED; i++) await countingEnqueue("count", i);
  const executed = ((await commandCalls(redis)) - before - 1) / COUNTED; // less our own INFO
  enqueued += COUNTED + 20;
  const roundTrips = [...sent.values()].reduce((sum, n) => sum + n, 0) / COUNTED;
  const parts = [...sent].map(([command, n]) => `${command} ${n / COUNTED}`).join(" + ");
  console.log(
    `\nRedis per queue-mode request (${COUNTED} one at a time): ${roundTrips} commands sent by the client (${parts}); ${executed.toFixed(2)} commands executed by the server, counting those inside the scripts (other clients of this Redis would inflate it)`,
  );
  await countingQueue.close();
  counting.disconnect();

  const pausedBefore = enqueued;
  const ratios = await compareAsync(
    `handle(): verify + parse + validate, then inline (memoryStore claim + no-op handler + complete) or queue (BullMQ add + read-back), ${THROUGHPUT_CONCURRENCY} concurrent, worker paused`,
    [
      { name: "inline, memoryStore(), no-op handler", fn: (i) => inline("noop_inline", i), baseline: true },
      { name: "queue, bullmqQueue()", fn: (i) => enqueue("noop_queue", i) },
    ],
    { rounds: 9, batch: 2000, concurrency: THROUGHPUT_CONCURRENCY },
  );
  const waiting = enqueued - pausedBefore + COUNTED + 20;

  await tell("resume");
  const afterThroughput = await drained(90_000);
  const lost = enqueued - afterThroughput.completed;
  console.log(
    `\nWorker (child, concurrency ${WORKER_CONCURRENCY}) drained the ${waiting} no-op jobs queued while paused in ${(afterThroughput.ms / 1000).toFixed(1)} s: ${Math.round(waiting / (afterThroughput.ms / 1000))} jobs/s`,
  );

  // --- Checks and clean-up --------------------------------------------------------------------------

  const { closed: ran } = await tell("close");
  await jobs.obliterate({ force: true });
  await Promise.all([jobs.close(), queue.close()]);
  redis.disconnect();
  clearTimeout(guard);

  // The medians: on a shared 2-core machine a p99 is at the mercy of whatever else runs.
  const answersFirst =
    percentile(one.queue, 50) < HANDLER_MS && percentile(sixteen.queue, 50) < percentile(sixteen.inline, 50);
  console.log(
    `\n${answersFirst ? "✓" : "✗"} queue mode answers before the handler would have finished (medians): p50 ${percentile(one.queue, 50).toFixed(2)} ms vs ${percentile(one.inline, 50).toFixed(2)} ms inline (1 at a time), ${percentile(sixteen.queue, 50).toFixed(2)} vs ${percentile(sixteen.inline, 50).toFixed(2)} ms (16 at a time); p99 ${percentile(one.queue, 99).toFixed(2)} vs ${percentile(one.inline, 99).toFixed(2)} / ${percentile(sixteen.queue, 99).toFixed(2)} vs ${percentile(sixteen.inline, 99).toFixed(2)} ms`,
  );
  console.log(
    `queue mode keeps ${(ratios["queue, bullmqQueue()"] * 100).toFixed(0)}% of inline mode's requests/s with a no-op handler`,
  );
  console.log(
    `${lost === 0 ? "✓" : "✗"} the worker ran every queued event: ${enqueued} queued, ${afterThroughput.completed} completed (${ran} by the child worker)`,
  );
  if (lost !== 0) process.exitCode = 1;
}

async function commandCalls(redis) {
  const stats = await redis.info("commandstats");
  let calls = 0;
  for (const match of stats.matchAll(/calls=(\d+)/g)) calls += Number(match[1]);
  return calls;
}
