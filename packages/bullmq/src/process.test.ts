// Workers as real OS processes: SIGTERM lets the running handler finish and the process exit 0 without
// taking new jobs; a worker killed mid-handler loses nothing, as another worker runs its job after the
// stall interval.
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { createWebhooks } from "@optare/webhooks";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it, vi } from "vitest";
import { bullmqQueue } from "./queue";
import { checkRedis, connection, createEvent, createQueueName, obliterate, post, secret } from "./test-redis";
import { createWorker } from "./worker";

const redisUp = await checkRedis();
const workerFile = fileURLToPath(new URL("./worker-process.ts", import.meta.url));

describe.runIf(redisUp)("a worker in its own process", () => {
  const names: string[] = [];
  const children: ChildProcess[] = [];
  const redis = new Redis(connection);

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    for (const name of names) {
      await obliterate(name);
      await redis.del(`${name}:log`);
    }
    redis.disconnect();
  });

  async function start(name: string, env: Record<string, string>): Promise<ChildProcess> {
    const child = fork(workerFile, {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, QUEUE_NAME: name, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`worker process exited with ${code}`)));
    });
    return child;
  }

  function setup(label: string) {
    const name = createQueueName(label);
    names.push(name);
    const queue = bullmqQueue({ connection, name });
    const webhooks = createWebhooks({ secret, queue, logger: false });
    const jobs = new Queue(name, { connection });
    return { name, webhooks, jobs, close: () => Promise.all([queue.close(), jobs.close()]) };
  }

  const log = (name: string) => redis.lrange(`${name}:log`, 0, -1);

  it("on SIGTERM, finishes the running handler, takes no new job, and exits 0", async () => {
    const { name, webhooks, jobs, close } = setup("sigterm");
    const child = await start(name, { HANDLER_MS: "1500" });
    const running = createEvent("user.created");
    expect((await webhooks.handle(post(running))).status).toBe(200);
    await vi.waitFor(async () => expect(await log(name)).toEqual([`start ${running.id}`]), {
      timeout: 5_000,
    });

    const exited = once(child, "exit");
    child.kill("SIGTERM");
    // Queued after the signal: a worker that is shutting down must leave it to the others.
    const later = createEvent("user.updated");
    expect((await webhooks.handle(post(later))).status).toBe(200);

    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(await log(name)).toEqual([`start ${running.id}`, `end ${running.id}`]);
    expect(await jobs.getJobState(running.id)).toBe("completed");
    expect(await jobs.getJobState(later.id)).toBe("waiting");
    await close();
  }, 20_000);

  it("runs the job of a worker killed mid-handler on another worker after the stall interval", async () => {
    const { name, webhooks, jobs, close } = setup("sigkill");
    const child = await start(name, { HANDLER_MS: "30000", STALLED_MS: "500" });
    const event = createEvent("user.created");
    expect((await webhooks.handle(post(event))).status).toBe(200);
    await vi.waitFor(async () => expect(await log(name)).toEqual([`start ${event.id}`]), { timeout: 5_000 });

    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
    expect(await jobs.getJobState(event.id)).toBe("active"); // still held by the dead worker's lock

    const ran: string[] = [];
    const router = createWebhooks({ secret, store: false }).onAny((received) => {
      ran.push(received.id);
    });
    const warnings: Record<string, unknown>[] = [];
    const rescuer = createWorker(router, {
      connection,
      name,
      stalledIntervalMs: 500,
      handleSignals: false,
      logger: { error: () => {}, warn: (fields) => warnings.push(fields) },
    });
    try {
      await vi.waitFor(async () => expect(await jobs.getJobState(event.id)).toBe("completed"), {
        timeout: 10_000,
      });
      expect(ran).toEqual([event.id]);
      expect(warnings).toContainEqual({ eventId: event.id }); // "… stopped while running it; it runs again."
    } finally {
      await rescuer.close();
      await close();
    }
  }, 20_000);
});
