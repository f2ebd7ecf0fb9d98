// A claim that times out on the client but still runs on the server (it sat in the client's queue, or
// the server was stalled) must not leave a record nobody owns. This starts a Redis of its own on another
// port, stalls it with DEBUG SLEEP (enabled for this server only) and stops it by pid.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { isWebhookError } from "@optare/webhooks";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { redisStore } from "./redis-store";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let server: ChildProcess;
let port: number;
let client: Redis;
let staller: Redis;

beforeAll(async () => {
  port = await freePort();
  server = spawn(
    "redis-server",
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--enable-debug-command",
      "yes",
    ],
    { stdio: "ignore" },
  );
  client = new Redis({ host: "127.0.0.1", port });
  staller = new Redis({ host: "127.0.0.1", port });
  // Refused while the server starts: ioredis reconnects by itself.
  for (const redis of [client, staller]) redis.on("error", () => {});
  for (const redis of [client, staller]) {
    await vi.waitFor(() => expect(redis.status).toBe("ready"), { timeout: 10_000, interval: 50 });
  }
});

afterAll(async () => {
  client?.disconnect();
  staller?.disconnect();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    await once(server, "exit");
  }
});

describe("redisStore: a claim that timed out", () => {
  it("is released when its late reply arrives, so the retry claims the event instead of getting 409", async () => {
    const store = redisStore({ client, timeoutMs: 150, prefix: "ghost:" });
    // Stall the whole server for 600 ms: the claim waits in line behind it, past its 150 ms timeout.
    const stalled = staller.call("DEBUG", "SLEEP", "0.6");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const timedOut = await store.claim("evt_ghost", "hash").then(
      () => null,
      (error: unknown) => error,
    );
    expect(isWebhookError(timedOut) && timedOut.code).toBe("store_unavailable");
    await stalled;
    // The claim did run once the server woke up; its reply then came back to the store, which let go.
    await expect.poll(() => client.exists("ghost:evt_ghost"), { timeout: 2_000 }).toBe(0);
    const retry = await store.claim("evt_ghost", "hash");
    expect(retry.status).toBe("claimed");
  });

  it("leaves a record that was genuinely someone else's alone", async () => {
    const store = redisStore({ client, timeoutMs: 150, prefix: "ghost:" });
    const owner = await store.claim("evt_owned", "hash");
    expect(owner.status).toBe("claimed");
    const stalled = staller.call("DEBUG", "SLEEP", "0.4");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await expect(store.claim("evt_owned", "hash")).rejects.toMatchObject({ code: "store_unavailable" });
    await stalled;
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The late reply said "processing" (someone else's claim): nothing was released.
    expect(await client.hget("ghost:evt_owned", "state")).toBe("processing");
  });
});
