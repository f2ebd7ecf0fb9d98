// One receiver process for crash.test.ts: a node:http server (createNodeHandler) in front of a
// queue-mode receiver, `createWebhooks({ secret, queue: bullmqQueue({ connection, name }) })`, sharing
// one Redis (and one queue) with its sibling receiver and the worker processes. It runs no handler: a
// 200 `queued` means Redis holds the job. It tells the test its port once it listens.
import { createServer } from "node:http";
import { createWebhooks } from "@optare/webhooks";
import { createNodeHandler } from "@optare/webhooks/node";
import { bullmqQueue } from "./queue";

const { QUEUE_NAME = "", SECRET = "" } = process.env;
const queue = bullmqQueue({ connection: { host: "127.0.0.1", port: 6379 }, name: QUEUE_NAME });
const webhooks = createWebhooks({ secret: SECRET, queue, logger: false });

const handler = createNodeHandler(webhooks);
const server = createServer((req, res) => void handler(req, res));

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
});
process.on("disconnect", () => {
  server.close();
  server.closeAllConnections();
  void queue.close();
});
