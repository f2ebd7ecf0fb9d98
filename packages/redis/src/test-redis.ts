// Helpers for this package's tests (not part of the published build).
import { randomUUID } from "node:crypto";
import { REDIS_URL, requireService } from "@optare/webhooks-testing/services";
import { Redis } from "ioredis";

export const REDIS_HOST = "127.0.0.1";
export const REDIS_PORT = 6379;
export { REDIS_URL };

/** Whether the real Redis answers; see `requireService`. */
export const checkRedis = () =>
  requireService("the @optare/webhooks-redis tests against a real Redis", REDIS_URL);

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
