import { createServer, type Server, type Socket } from "node:net";
import { createWebhooks, isWebhookError, type WebhookError } from "@optare/webhooks";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterEach, describe, expect, it } from "vitest";
import { redisStore } from "./redis-store";

// No Redis needed: these point real clients at loopback ports where no Redis answers.

/** Listens on a free loopback port; `closed()` then frees it, so connecting there is refused. */
async function listen(
  onConnection: (socket: Socket) => void = () => {},
): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port };
}

async function findClosedPort(): Promise<number> {
  const { server, port } = await listen();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function rejection(promise: Promise<unknown>): Promise<WebhookError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isWebhookError(error)) throw new Error(`expected a WebhookError, got ${String(error)}`);
  return error;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

// A generous store timeout, so a prompt rejection below can only come from the client's own error.
const timeoutMs = 60_000;

describe("redisStore when Redis is unreachable", () => {
  it("rejects claim with store_unavailable and the client's error as cause (ioredis, refused port)", async () => {
    const port = await findClosedPort();
    const client = new Redis({ host: "127.0.0.1", port, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on("error", () => {});
    cleanups.push(() => client.disconnect());
    const store = redisStore({ client, timeoutMs });
    const error = await rejection(store.claim("evt_1", "hash"));
    expect(error.code).toBe("store_unavailable");
    expect(error.status).toBe(503);
    expect(error.cause).toBeInstanceOf(Error);
    expect(String((error.cause as Error).message)).not.toMatch(/did not answer/);
    for (const operation of [
      store.complete("evt_1", "t"),
      store.release("evt_1", "t"),
      store.extend("evt_1", "t"),
    ]) {
      expect((await rejection(operation)).code).toBe("store_unavailable");
    }
  });

  it("rejects claim with store_unavailable and the client's error as cause (node-redis, refused port)", async () => {
    const port = await findClosedPort();
    const client = createClient({
      socket: { host: "127.0.0.1", port, reconnectStrategy: false, connectTimeout: 1_000 },
    });
    client.on("error", () => {});
    await expect(client.connect()).rejects.toThrow();
    const store = redisStore({ client, timeoutMs });
    const error = await rejection(store.claim("evt_1", "hash"));
    expect(error.code).toBe("store_unavailable");
    expect(error.cause).toBeInstanceOf(Error);
    expect(String((error.cause as Error).message)).not.toMatch(/did not answer/);
  });

  it("rejects with store_unavailable after timeoutMs when the server never answers (ioredis, default options)", async () => {
    // A TCP server that accepts and stays silent: a hung Redis, which the real server cannot be made into
    // without pausing it for every other test.
    const sockets = new Set<Socket>();
    const { server, port } = await listen((socket) => sockets.add(socket));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(resolve));
    });
    const client = new Redis({ host: "127.0.0.1", port });
    client.on("error", () => {});
    cleanups.push(() => client.disconnect());
    const store = redisStore({ client, timeoutMs: 300 });
    const error = await rejection(store.claim("evt_1", "hash"));
    expect(error.code).toBe("store_unavailable");
    expect((error.cause as Error).message).toMatch(/did not answer within 300 ms/);
  });

  it("answers 503 with a body that names no host, port or client internals", async () => {
    const port = await findClosedPort();
    const client = new Redis({ host: "127.0.0.1", port, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    client.on("error", () => {});
    cleanups.push(() => client.disconnect());
    const secret = "0123456789abcdef".repeat(4);
    const webhooks = createWebhooks({ secret, store: redisStore({ client, timeoutMs }), logger: false });
    const { body, headers } = signEvent(createEvent("user.created"), secret);
    const response = await webhooks.handle(
      new Request("http://localhost/", { method: "POST", body, headers }),
    );
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(JSON.parse(text).error.code).toBe("store_unavailable");
    expect(text).not.toContain("127.0.0.1");
    expect(text).not.toContain(String(port));
    expect(text).not.toMatch(/ECONNREFUSED|ioredis|Connection is closed/i);
  });
});
