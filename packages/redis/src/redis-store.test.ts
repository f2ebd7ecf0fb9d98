import { randomUUID } from "node:crypto";
import { isWebhookError } from "@optare/webhooks";
import { describeStoreContract } from "@optare/webhooks-testing/store-contract";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisClient, redisStore } from "./redis-store";
import { checkRedis, createPrefix, deleteKeys, REDIS_URL } from "./test-redis";

const redisUp = await checkRedis();

type NodeRedis = ReturnType<typeof createClient>;

const connectNodeRedis = (): Promise<NodeRedis> =>
  createClient({ url: REDIS_URL })
    .on("error", () => {})
    .connect();

describe.skipIf(!redisUp)("redisStore against a real Redis", () => {
  const prefix = createPrefix();
  let ioredis: Redis | undefined;
  let nodeRedis: Promise<NodeRedis> | undefined;
  const getIoredis = () => (ioredis ??= new Redis(REDIS_URL));
  const getNodeRedis = () => (nodeRedis ??= connectNodeRedis());

  afterAll(async () => {
    await deleteKeys(prefix);
    ioredis?.disconnect();
    await (await nodeRedis)?.close();
  });

  describeStoreContract("redisStore (ioredis)", (options) =>
    redisStore({ client: getIoredis(), prefix: `${prefix}ioredis:`, ...options }),
  );

  describeStoreContract("redisStore (node-redis)", async (options) =>
    redisStore({ client: await getNodeRedis(), prefix: `${prefix}node-redis:`, ...options }),
  );

  it("shares records between ioredis and node-redis stores on the same prefix", async () => {
    const viaIoredis = redisStore({ client: getIoredis(), prefix: `${prefix}shared:` });
    const viaNodeRedis = redisStore({ client: await getNodeRedis(), prefix: `${prefix}shared:` });
    const claimed = await viaIoredis.claim("evt_shared", "hash");
    if (claimed.status !== "claimed") throw new Error("expected a claim");
    expect(await viaNodeRedis.claim("evt_shared", "hash")).toMatchObject({
      status: "processing",
      sameBody: true,
    });
    expect(await viaNodeRedis.complete("evt_shared", claimed.token)).toBe(true);
    expect(await viaIoredis.claim("evt_shared", "other")).toEqual({ status: "completed", sameBody: false });
  });

  it("stores a record as a hash under prefix + id, expiring on the server", async () => {
    const store = redisStore({
      client: getIoredis(),
      prefix: `${prefix}layout:`,
      leaseMs: 5_000,
      retentionMs: 60_000,
    });
    const key = `${prefix}layout:evt_layout`;
    const claimed = await store.claim("evt_layout", "hash-1");
    if (claimed.status !== "claimed") throw new Error("expected a claim");
    const redis = getIoredis();
    expect(await redis.hgetall(key)).toEqual({
      state: "processing",
      token: claimed.token,
      bodyHash: "hash-1",
    });
    const leaseLeft = await redis.pttl(key);
    expect(leaseLeft).toBeGreaterThan(0);
    expect(leaseLeft).toBeLessThanOrEqual(5_000);
    expect(await store.complete("evt_layout", claimed.token)).toBe(true);
    expect(await redis.hgetall(key)).toEqual({ state: "completed", bodyHash: "hash-1" });
    expect(await redis.pttl(key)).toBeGreaterThan(5_000);
  });

  describe("costs exactly one command per operation on the server", () => {
    let monitor: Redis;
    const seen: { args: string[]; source: string }[] = [];

    beforeAll(async () => {
      monitor = await new Redis(REDIS_URL).monitor();
      monitor.on("monitor", (_time: string, args: string[], source: string) => seen.push({ args, source }));
    });
    afterAll(() => monitor?.disconnect());

    /** Runs `operations` and returns every command that reached Redis from `send`'s connection meanwhile. */
    async function recordCommands(
      send: (args: string[]) => Promise<unknown>,
      operations: () => Promise<void>,
    ) {
      const info = String(await send(["CLIENT", "INFO"]));
      const source = /(?:^|\s)addr=(\S+)/.exec(info)?.[1];
      expect(source).toBeDefined();
      const start = `start-${randomUUID()}`;
      const end = `end-${randomUUID()}`;
      await send(["ECHO", start]);
      await operations();
      await send(["ECHO", end]);
      // MONITOR reports commands in execution order; wait until it has reported our end marker.
      await expect.poll(() => seen.some((c) => c.args.includes(end)), { timeout: 5_000 }).toBe(true);
      const fromClient = seen.filter((command) => command.source === source);
      const from = fromClient.findIndex((c) => c.args.includes(start));
      const to = fromClient.findIndex((c) => c.args.includes(end));
      expect(from).toBeGreaterThanOrEqual(0);
      return fromClient.slice(from + 1, to);
    }

    const clients = [
      {
        name: "ioredis",
        connect: async () => {
          const client = new Redis(REDIS_URL);
          return {
            client,
            send: (args: string[]) => client.call(args[0]!, args.slice(1)),
            close: async () => client.disconnect(),
          };
        },
      },
      {
        name: "node-redis",
        connect: async () => {
          const client = await connectNodeRedis();
          return { client, send: (args: string[]) => client.sendCommand(args), close: () => client.close() };
        },
      },
    ];

    for (const { name, connect } of clients) {
      it(`claim + complete = 2 commands, duplicate claim = 1, with ${name}`, async () => {
        const { client, send, close } = await connect();
        try {
          const store = redisStore({ client, prefix: `${prefix}count:` });
          const id = `evt_${randomUUID()}`;
          const key = `${prefix}count:${id}`;
          const claimAndComplete = await recordCommands(send, async () => {
            const claimed = await store.claim(id, "hash");
            if (claimed.status !== "claimed") throw new Error("expected a claim");
            expect(await store.complete(id, claimed.token)).toBe(true);
          });
          expect(claimAndComplete.map((c) => [c.args[0]?.toUpperCase(), c.args[3]])).toEqual([
            ["EVAL", key],
            ["EVAL", key],
          ]);
          const duplicate = await recordCommands(send, async () => {
            expect(await store.claim(id, "hash")).toEqual({ status: "completed", sameBody: true });
          });
          expect(duplicate).toHaveLength(1);
        } finally {
          await close();
        }
      });
    }
  });
});

describe("redisStore configuration", () => {
  // Validation happens at construction; this stand-in client is never sent a command.
  const client = { call: async () => null };

  it("uses the SDK's default lease and retention", () => {
    const store = redisStore({ client });
    expect(store.leaseMs).toBe(30_000);
    expect(store.retentionMs).toBe(24 * 60 * 60 * 1000);
  });

  it("rejects a client that is neither ioredis nor node-redis, and nonsensical durations", () => {
    const invalid = [
      () => redisStore({ client: {} as RedisClient }),
      () => redisStore({ client, leaseMs: 0 }),
      () => redisStore({ client, retentionMs: 1.5 }),
      () => redisStore({ client, timeoutMs: -1 }),
    ];
    for (const create of invalid) {
      let error: unknown;
      try {
        create();
      } catch (thrown) {
        error = thrown;
      }
      expect(isWebhookError(error) && error.code).toBe("invalid_configuration");
    }
  });
});
