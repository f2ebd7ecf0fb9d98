// Queue mode through the public entry points: createWebhooks({ secret, queue: bullmqQueue() }) and
// handle(Request), against the real Redis. No worker runs here: the answers come from the queue alone.
import { createServer, type Socket } from "node:net";
import { createWebhooks, isWebhookError, type WebhookError } from "@optare/webhooks";
import { Queue } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { toJobId } from "./job-id";
import { bullmqQueue, DEFAULT_QUEUE_RETENTION_MS, type EventJobData } from "./queue";
import {
  answer,
  checkRedis,
  connection,
  createEvent,
  createQueueName,
  freePort,
  obliterate,
  post,
  secret,
} from "./test-redis";

const redisUp = await checkRedis();
const QUEUED = { received: true, queued: true };
const DUPLICATE = { received: true, duplicate: true };

describe.runIf(redisUp)("queue mode (bullmqQueue) against a real Redis", () => {
  const name = createQueueName("queue");
  const queue = bullmqQueue({ connection, name });
  const webhooks = createWebhooks({ secret, queue, logger: false });
  const jobs = new Queue<EventJobData>(name, { connection });
  let handlerRuns = 0;
  webhooks.onAny(() => {
    handlerRuns++;
  });

  afterAll(async () => {
    await obliterate(name);
    await Promise.all([queue.close(), jobs.close()]);
  });

  it("answers 200 queued once Redis holds the job, with the raw body, and runs no handler", async () => {
    const event = createEvent("user.created");
    const request = post(event);
    const body = await request.clone().text();
    expect(await answer(await webhooks.handle(request))).toEqual({ status: 200, body: QUEUED });
    // The answer came after the job was stored: it is there now, waiting for a worker.
    const job = await jobs.getJob(event.id);
    expect(job?.id).toBe(event.id);
    expect(job?.name).toBe("user.created");
    expect(job?.data).toMatchObject({ body, type: "user.created" });
    expect(job?.data.bodyHash).toMatch(/^[\w-]{43}$/);
    expect(job?.data.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(job?.data.receivedAt ?? "")).toBeGreaterThan(Date.now() - 60_000);
    expect(await jobs.getJobState(event.id)).toBe("waiting");
    // Kept at least the retention after finishing; dead letters kept too.
    expect(job?.opts.removeOnComplete).toEqual({ age: DEFAULT_QUEUE_RETENTION_MS / 1000 });
    expect(job?.opts.removeOnFail).toEqual({ age: 30 * 24 * 60 * 60 });
    expect(handlerRuns).toBe(0);
  });

  it("answers a redelivery 200 duplicate and keeps one job", async () => {
    const event = createEvent("session.created");
    expect((await webhooks.handle(post(event))).status).toBe(200);
    expect(await answer(await webhooks.handle(post(event)))).toEqual({ status: 200, body: DUPLICATE });
    expect(await answer(await webhooks.handle(post(event)))).toEqual({ status: 200, body: DUPLICATE });
    const ids = await jobs.getRanges(["waiting"], 0, -1);
    expect(ids.filter((id) => id === event.id)).toHaveLength(1);
  });

  it("answers the same id with another body 422 event_conflict and keeps the first body", async () => {
    const event = createEvent("user.updated");
    const first = post(event);
    const body = await first.clone().text();
    expect((await webhooks.handle(first)).status).toBe(200);
    const other = { ...event, data: { ...event.data, user: { ...event.data.user, name: "Someone Else" } } };
    const reply = await answer(await webhooks.handle(post(other)));
    expect(reply.status).toBe(422);
    expect(reply.body).toMatchObject({ error: { code: "event_conflict" } });
    expect((await jobs.getJob(event.id))?.data.body).toBe(body);
  });

  it("queues exactly one job for 100 concurrent identical deliveries, and answers exactly one 'queued'", async () => {
    const event = createEvent("organization.updated");
    const { body, headers } = { body: JSON.stringify(event), headers: post(event).headers };
    const replies = await Promise.all(
      Array.from({ length: 100 }, async () =>
        answer(await webhooks.handle(new Request("http://localhost/", { method: "POST", body, headers }))),
      ),
    );
    expect(replies.every((reply) => reply.status === 200)).toBe(true);
    expect(replies.filter((reply) => (reply.body as { queued?: boolean }).queued === true)).toHaveLength(1);
    expect(
      replies.filter((reply) => (reply.body as { duplicate?: boolean }).duplicate === true),
    ).toHaveLength(99);
    const ids = await jobs.getRanges(["waiting"], 0, -1);
    expect(ids.filter((id) => id === event.id)).toHaveLength(1);
  });

  it("queues events whose ids BullMQ would refuse as job ids, under an escaped job id", async () => {
    for (const id of ["12345", "evt:with:colons", "evt:x", "100%"]) {
      const event = createEvent("user.created", { id });
      expect(await answer(await webhooks.handle(post(event)))).toEqual({ status: 200, body: QUEUED });
      expect(await answer(await webhooks.handle(post(event)))).toEqual({ status: 200, body: DUPLICATE });
      const job = await jobs.getJob(toJobId(id));
      expect(JSON.parse(job?.data.body ?? "{}").id).toBe(id);
    }
  });

  it("accepts a Queue of yours instead of connection options", async () => {
    const own = bullmqQueue({ queue: jobs });
    expect(own.name).toBe(name);
    const event = createEvent("user.deleted");
    const receiver = createWebhooks({ secret, queue: own, logger: false });
    expect((await receiver.handle(post(event))).status).toBe(200);
    expect(await jobs.getJobState(event.id)).toBe("waiting");
    await own.close(); // leaves your queue open
    expect(await jobs.getJobState(event.id)).toBe("waiting");
  });
});

async function rejection(promise: Promise<unknown>): Promise<WebhookError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!isWebhookError(error)) throw new Error(`expected a WebhookError, got ${String(error)}`);
  return error;
}

describe("queue mode when Redis cannot be reached", () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });

  it("answers 503 queue_unavailable within enqueueTimeoutMs when nothing listens, naming no internals", async () => {
    const port = await freePort();
    const queue = bullmqQueue({ connection: { host: "127.0.0.1", port }, enqueueTimeoutMs: 300 });
    closers.push(() => queue.close());
    const seen: WebhookError[] = [];
    const webhooks = createWebhooks({ secret, queue, logger: false }).onError((error) => seen.push(error));
    const started = Date.now();
    const reply = await answer(await webhooks.handle(post(createEvent("user.created"))));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(reply.status).toBe(503);
    expect(reply.body).toEqual({
      error: { code: "queue_unavailable", message: "The event queue did not answer within 300 ms." },
    });
    expect(JSON.stringify(reply.body)).not.toContain(String(port));
    expect(seen.map((error) => error.code)).toEqual(["queue_unavailable"]);
    expect(seen[0]?.cause).toBeInstanceOf(Error);
  });

  it("rejects enqueue with queue_unavailable when the server accepts connections but never answers", async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const queue = bullmqQueue({ connection: { host: "127.0.0.1", port }, enqueueTimeoutMs: 300 });
    closers.push(async () => {
      await queue.close().catch(() => {});
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    });
    const event = createEvent("user.created");
    const error = await rejection(queue.enqueue(event, JSON.stringify(event), "hash"));
    expect(error.code).toBe("queue_unavailable");
    expect(error.status).toBe(503);
  });
});

describe("bullmqQueue options", () => {
  it("refuses bad configurations with invalid_configuration", () => {
    const bad: unknown[] = [
      undefined,
      {},
      { connection, queue: {} },
      { connection, name: "a:b" },
      { connection, name: "" },
      { connection, retentionMs: 0 },
      { connection, retentionMs: 1.5 },
      { connection, retentionMs: 60_000, failedRetentionMs: 1_000 },
      { connection, enqueueTimeoutMs: -1 },
    ];
    for (const options of bad) {
      expect(() => bullmqQueue(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: "invalid_configuration" }),
      );
    }
  });

  it("tells the receiver how long it remembers events, so maxEventAge is checked against it", () => {
    const queue = bullmqQueue({ connection, retentionMs: 60 * 60 * 1000 });
    expect(queue.retentionMs).toBe(60 * 60 * 1000);
    expect(() => createWebhooks({ secret, queue })).toThrow(/maxEventAge/);
    expect(() => createWebhooks({ secret, queue, maxEventAge: 30 * 60 * 1000 })).not.toThrow();
    expect(() => createWebhooks({ secret, queue: bullmqQueue({ connection }) })).not.toThrow();
  });
});
