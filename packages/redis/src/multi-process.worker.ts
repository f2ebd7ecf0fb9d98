// One receiver process for multi-process.test.ts: a plain node:http server in front of
// `createWebhooks().handle`, deduplicating through a Redis shared with its sibling processes.
// Its handler's side effect is an INCR in Redis, so the test can count runs across processes.
import { createServer } from "node:http";
import { createWebhooks } from "@optare/webhooks";
import { Redis } from "ioredis";
import { redisStore } from "./redis-store";

const { PREFIX = "", SECRET = "" } = process.env;
const redis = new Redis("redis://127.0.0.1:6379");
const webhooks = createWebhooks({
  secret: SECRET,
  store: redisStore({ client: redis, prefix: `${PREFIX}claims:` }),
});

webhooks.onAny(async (event) => {
  const attempt = await redis.incr(`${PREFIX}attempts:${event.id}`);
  await new Promise((resolve) => setTimeout(resolve, 30)); // widen the window for overlapping duplicates
  if (event.event === "user.deleted" && attempt === 1) throw new Error("first run fails on purpose");
  await redis.incr(`${PREFIX}effects:${event.id}`);
});

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const response = await webhooks.handle(
    new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: req.method === "POST" ? Buffer.concat(chunks) : undefined,
    }),
  );
  res.writeHead(response.status, Object.fromEntries(response.headers)).end(await response.text());
});

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
});
process.on("disconnect", () => {
  server.close();
  redis.disconnect();
});
