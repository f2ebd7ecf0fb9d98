// Helpers for this package's tests (not part of the published build): the real Redis at 127.0.0.1:6379,
// a queue name of each test's own, and Redis servers a test starts and stops itself.
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { answers, requireService } from "@optare/webhooks-testing/services";
import { Queue } from "bullmq";

export const REDIS_HOST = "127.0.0.1";
export const REDIS_PORT = 6379;
export const connection = { host: REDIS_HOST, port: REDIS_PORT };
export const secret = "0123456789abcdef".repeat(4);

/** Whether a Redis answers on `port` of 127.0.0.1 (a raw `PING`, 1 s at most). */
export const pingRedis = (port = REDIS_PORT) => answers(`redis://${REDIS_HOST}:${port}`);

/** Whether the real Redis answers; see `requireService`. */
export const checkRedis = () =>
  requireService(
    "the @optare/webhooks-bullmq tests against a real Redis",
    `redis://${REDIS_HOST}:${REDIS_PORT}`,
  );

/** A queue name no other test run uses. */
export function createQueueName(label: string): string {
  return `optare-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Removes everything of queue `name` (jobs, events, meta) from the Redis at `port`. */
export async function obliterate(name: string, port = REDIS_PORT): Promise<void> {
  const queue = new Queue(name, { connection: { host: REDIS_HOST, port } });
  queue.on("error", () => {});
  try {
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

/** A signed delivery of `event` as a `Request`. */
export function post(event: unknown): Request {
  const { body, headers } = signEvent(event, secret);
  return new Request("http://localhost/webhooks/optare", { method: "POST", body, headers });
}

export { createEvent };

export async function answer(response: Response): Promise<{ status: number; body: unknown }> {
  return { status: response.status, body: await response.json() };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A redis-server of the test's own on a free port, stopped and started again by pid. `durable: true`
 * persists every write (AOF, fsync always) in a temporary directory, so a restart keeps the jobs.
 */
export async function startOwnRedis({ durable = false } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "optare-bullmq-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir];
  args.push(...(durable ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]));
  let server: ChildProcess | undefined;

  async function start(): Promise<void> {
    server = spawn("redis-server", args, { stdio: "ignore" });
    for (let i = 0; i < 200 && !(await pingRedis(port)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    if (!(await pingRedis(port))) throw new Error(`redis-server on port ${port} did not start`);
  }

  async function stop(): Promise<void> {
    const running = server;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGTERM");
    await exited;
  }

  await start();
  return {
    port,
    start,
    stop,
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
