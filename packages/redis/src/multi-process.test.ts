// The guarantee of SPEC §4 across real processes: several receivers share one real Redis; the same
// events are fired at all of them at once, many times. Each handler's side effect must happen exactly
// once, no request may get a 5xx other than the intended failure, and a failed first run is retried.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRedis, createPrefix, deleteKeys, REDIS_URL } from "./test-redis";

const redisUp = await checkRedis();
const secret = "0123456789abcdef".repeat(4);
const PROCESSES = 3;
const COPIES = 12;

describe.runIf(redisUp)("several receiver processes sharing one Redis", () => {
  const prefix = createPrefix();
  const workers: ChildProcess[] = [];
  const ports: number[] = [];
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    const worker = fileURLToPath(new URL("./multi-process.worker.ts", import.meta.url));
    for (let i = 0; i < PROCESSES; i++) {
      const child = fork(worker, {
        execArgv: ["--import", "tsx"],
        env: { ...process.env, PREFIX: prefix, SECRET: secret },
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      workers.push(child);
      ports.push(
        await new Promise<number>((resolve, reject) => {
          child.once("message", (message: { port: number }) => resolve(message.port));
          child.once("exit", (code) => reject(new Error(`receiver process exited with ${code}`)));
        }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    for (const child of workers) child.disconnect();
    await deleteKeys(prefix);
    redis?.disconnect();
  });

  const unexpected: string[] = [];

  async function deliver(port: number, body: string, headers: Record<string, string>): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${port}/webhooks/optare`, {
      method: "POST",
      body,
      headers,
    });
    const text = await response.text();
    if (![200, 409, 500].includes(response.status)) unexpected.push(`${response.status} ${text}`);
    return response.status;
  }

  it("runs each event's handler exactly once and loses none", async () => {
    const events = [
      ...Array.from({ length: 15 }, () => createEvent("session.created")),
      ...Array.from({ length: 5 }, () => createEvent("user.deleted")), // first run throws
    ];
    const deliveries = events.map((event) => signEvent(event, secret));

    // A storm: every event, COPIES times, spread over all processes, all at once.
    const storm = await Promise.all(
      deliveries.flatMap(({ body, headers }) =>
        Array.from({ length: COPIES }, (_, copy) => deliver(ports[copy % PROCESSES]!, body, headers)),
      ),
    );
    const counts: Record<number, number> = {};
    for (const status of storm) counts[status] = (counts[status] ?? 0) + 1;
    console.info("status counts during the storm:", counts);
    // 500 only for the deliberately failing first run of each user.deleted event.
    expect(storm.filter((status) => status === 500).length).toBeLessThanOrEqual(5);
    expect(unexpected).toEqual([]);

    // Then the sender's retries, round-robin, until each event is acknowledged.
    for (const [index, { body, headers }] of deliveries.entries()) {
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = await deliver(ports[(index + attempt) % PROCESSES]!, body, headers);
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(status).toBe(200);
    }

    for (const event of events) {
      expect(await redis.get(`${prefix}effects:${event.id}`)).toBe("1");
    }
    for (const event of events.filter((e) => e.event === "user.deleted")) {
      expect(Number(await redis.get(`${prefix}attempts:${event.id}`))).toBe(2);
    }
  }, 60_000);
});
