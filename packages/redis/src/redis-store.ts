import {
  type ClaimResult,
  createToken,
  DEFAULT_LEASE_MS,
  DEFAULT_RETENTION_MS,
  type IdempotencyStore,
  WebhookError,
} from "@optare/webhooks";

/** The part of an `ioredis` (v5) `Redis` client this store uses. */
export interface IoRedisClient {
  call(command: string, args: (string | number)[]): Promise<unknown>;
}

/** The part of a node-redis (`redis` v5) client from `createClient()` this store uses. */
export interface NodeRedisClient {
  sendCommand(args: string[]): Promise<unknown>;
}

export type RedisClient = IoRedisClient | NodeRedisClient;

export interface RedisStoreOptions {
  /** A connected `ioredis` client or node-redis client. The store never connects or closes it. */
  client: RedisClient;
  /**
   * Prepended to every event id to form its key (default `"optare:webhooks:"`). Endpoints that share a
   * Redis must each have their own prefix: an event id seen by one would be a duplicate to the other.
   */
  prefix?: string;
  /** Lease of a processing record, in ms (default 30 s). */
  leaseMs?: number;
  /** How long completed records are kept, in ms (default 24 h). */
  retentionMs?: number;
  /**
   * An operation Redis has not answered within this many ms rejects with `store_unavailable`
   * (default 5 s), so a stalled connection becomes a prompt 503 rather than a sender timeout.
   */
  timeoutMs?: number;
}

// A record is a hash { state, token, bodyHash } under `prefix + eventId`, expiring on the Redis server's
// clock. Each operation is ONE plain `EVAL`: the scripts are a few hundred bytes, Redis caches each
// compiled script by its SHA, and unlike `EVALSHA` there is never a `NOSCRIPT` miss (after a restart,
// failover or `SCRIPT FLUSH`) that would cost a second round trip and a retry path to get right.

/** KEYS[1] record; ARGV token, body hash, lease. Returns {"claimed"} or {state, sameBody 1|0, pttl}. */
const CLAIM = `
local record = redis.call("HMGET", KEYS[1], "state", "bodyHash")
if not record[1] then
  redis.call("HSET", KEYS[1], "state", "processing", "token", ARGV[1], "bodyHash", ARGV[2])
  redis.call("PEXPIRE", KEYS[1], ARGV[3])
  return {"claimed"}
end
return {record[1], record[2] == ARGV[2] and 1 or 0, redis.call("PTTL", KEYS[1])}
`;

/** Shared head of the token-guarded scripts: KEYS[1] record, ARGV[1] token. Returns 0 unless it acts. */
const GUARD = `
local record = redis.call("HMGET", KEYS[1], "state", "token")
if record[1] ~= "processing" or record[2] ~= ARGV[1] then return 0 end
`;
/** ARGV[2] retention. The token is dropped: nothing may act on a completed record. */
const COMPLETE = `${GUARD}
redis.call("HSET", KEYS[1], "state", "completed")
redis.call("HDEL", KEYS[1], "token")
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return 1`;
const RELEASE = `${GUARD}
redis.call("DEL", KEYS[1])
return 1`;
/** ARGV[2] new lease. */
const EXTEND = `${GUARD}
redis.call("PEXPIRE", KEYS[1], ARGV[2])
return 1`;

/**
 * An `IdempotencyStore` in Redis, safe for any number of receiver processes sharing one Redis: every
 * operation is one atomic Lua script, so exactly one concurrent claim wins, and leases and retention
 * expire on the Redis server's clock. Works with `ioredis` and node-redis (`createClient()`) clients.
 * Any client error (connection refused, closed, timeout) rejects with `WebhookError("store_unavailable")`
 * carrying the cause, so the receiver answers 503 and the sender retries. A claim that timed out but ran
 * later is released as soon as its reply arrives, so it never blocks the retry.
 */
export function redisStore(options: RedisStoreOptions): IdempotencyStore {
  const send = createSend(options.client);
  const prefix = options.prefix ?? "optare:webhooks:";
  if (typeof prefix !== "string") throw configError("prefix must be a string");
  const leaseMs = readPositive(options.leaseMs, "leaseMs", DEFAULT_LEASE_MS);
  const retentionMs = readPositive(options.retentionMs, "retentionMs", DEFAULT_RETENTION_MS);
  const timeoutMs = readPositive(options.timeoutMs, "timeoutMs", 5_000);

  /**
   * One script, answered within `timeoutMs` or rejected with `store_unavailable`. The message names no
   * client internals (hosts, ports): it can reach an HTTP answer; the client's error stays on `cause`.
   * `late` sees the reply of a command that answered after its timeout: it still ran on the server.
   */
  async function run(
    script: string,
    eventId: string,
    args: string[],
    late?: (reply: unknown) => void,
  ): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new Error(`Redis did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      // `send` may throw synchronously (node-redis does when the client is closed): call it inside the try.
      const sent = send(["EVAL", script, "1", prefix + eventId, ...args]);
      if (late)
        sent.then(
          (reply) => timedOut && late(reply),
          () => {},
        );
      return await Promise.race([sent, timeout]);
    } catch (cause) {
      throw new WebhookError("store_unavailable", "The Redis idempotency store is unavailable.", { cause });
    } finally {
      clearTimeout(timer);
    }
  }

  async function runGuarded(script: string, eventId: string, token: string, ms?: number): Promise<boolean> {
    const reply = await run(script, eventId, ms === undefined ? [token] : [token, String(ms)]);
    return Number(reply) === 1;
  }

  return {
    leaseMs,
    retentionMs,

    async claim(eventId, bodyHash): Promise<ClaimResult> {
      const token = createToken();
      // A claim that times out may still land when the client's queue drains: a record nobody owns, which
      // would answer every retry 409 for a whole lease. Release it the moment its late reply shows it won.
      const releaseGhost = (reply: unknown) => {
        if (Array.isArray(reply) && String(reply[0]) === "claimed") {
          run(RELEASE, eventId, [token]).catch(() => {}); // Failing that, the lease runs out as usual.
        }
      };
      const reply = await run(CLAIM, eventId, [token, bodyHash, String(leaseMs)], releaseGhost);
      if (!Array.isArray(reply)) throw unexpected(reply);
      const [state, same, pttl] = reply.map(String);
      if (state === "claimed") return { status: "claimed", token };
      if (state === "completed") return { status: "completed", sameBody: same === "1" };
      if (state === "processing") {
        const left = Number(pttl);
        return { status: "processing", sameBody: same === "1", retryAfterMs: left > 0 ? left : leaseMs };
      }
      throw unexpected(reply);
    },

    complete: (eventId, token) => runGuarded(COMPLETE, eventId, token, retentionMs),
    release: (eventId, token) => runGuarded(RELEASE, eventId, token),
    extend: async (eventId, token, extendMs) =>
      runGuarded(EXTEND, eventId, token, readPositive(extendMs, "leaseMs", leaseMs)),
  };
}

/** Picks the client's raw-command method once: `call` on ioredis, `sendCommand` on node-redis. */
function createSend(client: RedisClient): (args: string[]) => Promise<unknown> {
  if (typeof client === "object" && client !== null) {
    if ("call" in client && typeof client.call === "function") {
      return ([command, ...args]) => client.call(command!, args);
    }
    if ("sendCommand" in client && typeof client.sendCommand === "function") {
      return (args) => client.sendCommand(args);
    }
  }
  throw configError("client must be an ioredis client or a node-redis client from createClient()");
}

function readPositive(value: number | undefined, name: string, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result <= 0) throw configError(`${name} must be a positive integer`);
  return result;
}

function configError(message: string): WebhookError {
  return new WebhookError("invalid_configuration", `redisStore: ${message}.`);
}

function unexpected(reply: unknown): WebhookError {
  return new WebhookError(
    "store_unavailable",
    `redisStore: unexpected reply from Redis: ${JSON.stringify(reply)}`,
  );
}
