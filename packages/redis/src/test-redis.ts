// Helpers for this package's tests (not part of the published build).
import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { Redis } from "ioredis";

export const REDIS_HOST = "127.0.0.1";
export const REDIS_PORT = 6379;
export const REDIS_URL = `redis://${REDIS_HOST}:${REDIS_PORT}`;

/** Sends a raw `PING` and waits up to 1 s for `+PONG`, without any client library. */
function pingRedis(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: REDIS_HOST, port: REDIS_PORT });
    const finish = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on("error", () => finish(false));
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (data) => finish(data.toString().startsWith("+PONG")));
  });
}

/**
 * Whether the real Redis at 127.0.0.1:6379 answers. When it does not: under `CI=true` this throws (the
 * tests must fail), otherwise it warns loudly and the caller skips its Redis tests.
 */
export async function checkRedis(): Promise<boolean> {
  if (await pingRedis()) return true;
  const message = `No Redis answers at ${REDIS_URL}.`;
  if (process.env.CI === "true") throw new Error(`${message} CI=true requires it: start redis-server.`);
  console.warn(
    `\n${"!".repeat(80)}\n!! SKIPPING the @optare/webhooks-redis tests against a real Redis. ${message}\n!! Start redis-server on 127.0.0.1:6379 to run them.\n${"!".repeat(80)}\n`,
  );
  return false;
}

/** A key prefix no other test run uses. */
export function createPrefix(): string {
  return `optare:webhooks:test:${randomUUID()}:`;
}

/** Deletes every key under `prefix` and returns how many there were. */
export async function deleteKeys(prefix: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    let deleted = 0;
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1_000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== "0");
    return deleted;
  } finally {
    redis.disconnect();
  }
}
