// createWorker against the real Redis, fed by a queue-mode receiver: the answer does not wait for
// handlers, failures are retried then kept as dead letters (listed, replayed), and the worker logs and
// reports failures as the receiver does.
import { createHash } from "node:crypto";
import {
  createWebhooks,
  type ErrorContext,
  type Logger,
  memoryStore,
  type WebhookError,
} from "@optare/webhooks";
import { Queue, UnrecoverableError } from "bullmq";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { bullmqQueue, type EventJobData } from "./queue";
import {
  answer,
  checkRedis,
  connection,
  createEvent,
  createQueueName,
  obliterate,
  post,
  secret,
} from "./test-redis";
import { createWorker, type WebhookWorker } from "./worker";

const redisUp = await checkRedis();

/** A logger that keeps what it is given. */
function recordingLogger() {
  const lines: { level: "error" | "warn"; fields: Record<string, unknown>; message: string }[] = [];
  const logger: Logger = {
    error: (fields, message) => lines.push({ level: "error", fields, message }),
    warn: (fields, message) => lines.push({ level: "warn", fields, message }),
  };
  return { logger, lines };
}

describe.runIf(redisUp)("createWorker against a real Redis", () => {
  const names: string[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  /** A receiver in queue mode and the BullMQ queue behind it, on a queue of this test's own. */
  function setup(label: string) {
    const name = createQueueName(label);
    names.push(name);
    const queue = bullmqQueue({ connection, name });
    const webhooks = createWebhooks({ secret, queue, logger: false });
    const jobs = new Queue<EventJobData, string>(name, { connection });
    cleanups.push(
      () => queue.close(),
      () => jobs.close(),
    );
    return { name, webhooks, jobs };
  }

  function track(worker: WebhookWorker): WebhookWorker {
    cleanups.push(() => worker.close());
    return worker;
  }

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  afterAll(async () => {
    for (const name of names) await obliterate(name);
  });

  it("answers the delivery before a 10 s handler ends: the answer never waits for handlers", async () => {
    const { name, webhooks, jobs } = setup("order");
    const order: string[] = [];
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    webhooks.on("user.created", async () => {
      order.push("handler started");
      // Ten seconds, unless the test lets it go once the answer is in.
      await Promise.race([released, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      order.push("handler ended");
    });
    track(createWorker(webhooks, { connection, name, handleSignals: false, logger: false }));

    const event = createEvent("user.created");
    const reply = await answer(await webhooks.handle(post(event)));
    order.push("answer");
    expect(reply).toEqual({ status: 200, body: { received: true, queued: true } });
    expect(order).not.toContain("handler ended");

    await vi.waitFor(() => expect(order).toContain("handler started"), { timeout: 5_000 });
    release();
    await vi.waitFor(async () => expect(await jobs.getJobState(event.id)).toBe("completed"), {
      timeout: 5_000,
    });
    expect(order.indexOf("answer")).toBeLessThan(order.indexOf("handler ended"));
    expect(order.filter((step) => step === "handler ended")).toHaveLength(1);
    expect((await jobs.getJob(event.id))?.returnvalue).toBe("processed");
  });

  it("retries with backoff, keeps what failed every attempt as a dead letter, and replays it", async () => {
    const { name, webhooks, jobs } = setup("dead");
    const { logger, lines } = recordingLogger();
    const reported: { error: WebhookError; context: ErrorContext }[] = [];
    webhooks.onError((error, context) => reported.push({ error, context }));
    let broken = true;
    const done: string[] = [];
    webhooks.on(["user.created", "user.deleted"], (event) => {
      if (broken) throw new Error(`downstream is down (${event.id})`);
      done.push(event.id);
    });
    const worker = track(
      createWorker(webhooks, { connection, name, attempts: 3, backoffMs: 20, logger, handleSignals: false }),
    );

    const first = createEvent("user.created");
    const second = createEvent("user.deleted");
    const bodies = new Map<string, string>();
    for (const event of [first, second]) {
      const request = post(event);
      bodies.set(event.id, await request.clone().text());
      expect((await webhooks.handle(request)).status).toBe(200);
    }
    await vi.waitFor(async () => expect(await jobs.getFailedCount()).toBe(2), { timeout: 10_000 });

    const dead = await worker.listFailed();
    expect(dead.map((letter) => letter.id).sort()).toEqual([first.id, second.id].sort());
    for (const letter of dead) {
      expect(letter).toMatchObject({
        jobId: letter.id,
        attemptsMade: 3,
        failedReason: `downstream is down (${letter.id})`,
        body: bodies.get(letter.id),
      });
      expect(letter.type).toBe(letter.id === first.id ? "user.created" : "user.deleted");
      expect(letter.failedAt).toBeInstanceOf(Date);
      expect(letter.stacktrace.length).toBeGreaterThan(0);
      expect(letter.stacktrace[0]).toContain("downstream is down");
    }

    // Each attempt was logged and reported, as the receiver does for each failed delivery.
    const firstLines = lines.filter((line) => line.fields.eventId === first.id);
    expect(firstLines.map((line) => [line.level, line.fields.attempt, line.fields.code])).toEqual([
      ["error", 1, "handler_failed"],
      ["error", 2, "handler_failed"],
      ["error", 3, "handler_failed"],
    ]);
    expect(firstLines[0]?.message).toMatch(/attempt 1 of 3\); retrying in 20 ms: Error: downstream is down/);
    expect(firstLines[1]?.message).toMatch(/retrying in 40 ms/);
    expect(firstLines[2]?.message).toMatch(/kept as a dead letter/);
    expect(firstLines[2]?.fields).toMatchObject({ eventType: "user.created", attempts: 3 });
    expect(reported).toHaveLength(6);
    for (const { error, context } of reported) {
      expect(error.code).toBe("handler_failed");
      expect(String((error.cause as Error).message)).toMatch(/downstream is down/);
      expect([first.id, second.id]).toContain(context.event?.id);
    }

    // The sender's later retry of a dead-lettered event is a duplicate: the queue still holds it.
    expect(await answer(await webhooks.handle(post(first)))).toEqual({
      status: 200,
      body: { received: true, duplicate: true },
    });

    broken = false;
    expect(await worker.replay(first.id)).toBe(true);
    await vi.waitFor(async () => expect(await jobs.getJobState(first.id)).toBe("completed"), {
      timeout: 5_000,
    });
    expect(done).toEqual([first.id]);
    expect((await worker.listFailed()).map((letter) => letter.id)).toEqual([second.id]);
    expect(await worker.replay(first.id)).toBe(false); // completed, not a dead letter any more
    expect(await worker.replay("evt_never_seen")).toBe(false);

    expect(await worker.replayFailed()).toBe(1);
    await vi.waitFor(async () => expect(await jobs.getJobState(second.id)).toBe("completed"), {
      timeout: 5_000,
    });
    expect(done).toEqual([first.id, second.id]);
    expect(await worker.listFailed()).toEqual([]);
    expect(await worker.replayFailed()).toBe(0);
  });

  it("gives a replayed dead letter a fresh set of attempts", async () => {
    const { name, webhooks, jobs } = setup("fresh");
    let runs = 0;
    webhooks.on("user.created", () => {
      runs++;
      if (runs !== 4) throw new Error("not yet");
    });
    const worker = track(
      createWorker(webhooks, {
        connection,
        name,
        attempts: 2,
        backoffMs: 10,
        logger: false,
        handleSignals: false,
      }),
    );
    const event = createEvent("user.created");
    await webhooks.handle(post(event));
    await vi.waitFor(async () => expect(await jobs.getJobState(event.id)).toBe("failed"), { timeout: 5_000 });
    expect(runs).toBe(2);
    // Run 3 fails, run 4 succeeds: the replay had two attempts again, not zero.
    expect(await worker.replay(event.id)).toBe(true);
    await vi.waitFor(async () => expect(await jobs.getJobState(event.id)).toBe("completed"), {
      timeout: 5_000,
    });
    expect(runs).toBe(4);
  });

  it("dead-letters at once when a handler throws BullMQ's UnrecoverableError", async () => {
    const { name, webhooks, jobs } = setup("unrecoverable");
    const { logger, lines } = recordingLogger();
    webhooks.on("user.created", () => {
      throw new UnrecoverableError("this user can never be imported");
    });
    const worker = track(createWorker(webhooks, { connection, name, logger, handleSignals: false }));
    const event = createEvent("user.created");
    await webhooks.handle(post(event));
    await vi.waitFor(async () => expect(await jobs.getJobState(event.id)).toBe("failed"), { timeout: 5_000 });
    expect(await worker.listFailed()).toMatchObject([
      { id: event.id, attemptsMade: 1, failedReason: "this user can never be imported" },
    ]);
    expect(lines.map((line) => line.message)).toEqual([
      "Queued event failed (attempt 1 of 5); the job is kept as a dead letter (listFailed, replay): UnrecoverableError: this user can never be imported",
    ]);
  });

  it("logs failures with the core's default logger in the receiver's line format", async () => {
    const failing = (error: Error) => () => {
      throw error;
    };
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      // The receiver itself (no queue), for the reference line.
      const direct = createWebhooks({ secret }).on("user.created", failing(new Error("nope")));
      const event = createEvent("user.created");
      expect((await direct.handle(post(event))).status).toBe(500);

      const { name, webhooks, jobs } = setup("log");
      webhooks.on("user.created", failing(new Error("nope")));
      track(createWorker(webhooks, { connection, name, attempts: 1, handleSignals: false }));
      const queued = createEvent("user.created");
      await webhooks.handle(post(queued));
      await vi.waitFor(async () => expect(await jobs.getJobState(queued.id)).toBe("failed"), {
        timeout: 5_000,
      });
      const lines = spy.mock.calls.map(([line]) => String(line));
      const shape = (id: string) =>
        new RegExp(
          `^\\[optare-webhooks\\] .+ code=handler_failed eventType=user\\.created eventId=${id} durationMs=\\d+\\n  caused by: Error: nope\\n +at `,
        );
      expect(lines.filter((line) => shape(event.id).test(line))).toHaveLength(1);
      const workerLines = lines.filter((line) => shape(queued.id).test(line));
      expect(workerLines).toHaveLength(1);
      expect(workerLines[0]).toMatch(
        /^\[optare-webhooks\] Queued event failed \(attempt 1 of 1\); the job is kept as a dead letter \(listFailed, replay\): Error: nope /,
      );
    } finally {
      spy.mockRestore();
    }
  });

  it("dead-letters a job whose body no longer parses at once, and reports it", async () => {
    const { name, webhooks, jobs } = setup("unparseable");
    const { logger, lines } = recordingLogger();
    const reported: WebhookError[] = [];
    webhooks.onError((error) => reported.push(error));
    const worker = track(createWorker(webhooks, { connection, name, logger, handleSignals: false }));
    await jobs.add(
      "user.created",
      {
        token: "t",
        bodyHash: "h",
        type: "user.created",
        receivedAt: new Date().toISOString(),
        body: "{oops",
      },
      { jobId: "evt_garbled" },
    );
    await vi.waitFor(async () => expect(await jobs.getJobState("evt_garbled")).toBe("failed"), {
      timeout: 5_000,
    });
    const [letter] = await worker.listFailed();
    expect(letter).toMatchObject({ id: "evt_garbled", attemptsMade: 1, body: "{oops" });
    expect(letter?.failedReason).toMatch(/^invalid_json: /);
    expect(reported.map((error) => error.code)).toEqual(["invalid_json"]);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.message).toMatch(/attempt 1 of 5\); the job is kept as a dead letter/);
  });

  it("with a store: waits for another holder's claim without spending an attempt, and refuses a conflicting body", async () => {
    const { name, webhooks, jobs } = setup("store");
    const store = memoryStore({ leaseMs: 400 });
    const runs: string[] = [];
    webhooks.onAny((event) => {
      runs.push(event.id);
    });
    const { logger, lines } = recordingLogger();
    track(createWorker(webhooks, { connection, name, store, logger, handleSignals: false }));

    // Someone else (a receiver sharing the store, a stalled worker) holds this event's claim.
    const held = createEvent("user.created");
    const heldBody = JSON.stringify(held);
    const claim = await store.claim(held.id, createHash("sha256").update(heldBody).digest("base64url"));
    expect(claim.status).toBe("claimed");
    await webhooks.handle(post(held));
    await vi.waitFor(async () => expect(await jobs.getJobState(held.id)).toBe("delayed"), { timeout: 5_000 });
    expect(runs).toEqual([]);
    // Its lease runs out unreleased: the worker then claims and runs it, with no attempt spent.
    await vi.waitFor(async () => expect(await jobs.getJobState(held.id)).toBe("completed"), {
      timeout: 5_000,
    });
    expect(runs).toEqual([held.id]);
    expect((await jobs.getJob(held.id))?.attemptsMade).toBe(1); // the one successful run
    expect((await jobs.getJob(held.id))?.attemptsStarted).toBe(2);

    // The store knows this id with another body: not run, kept as a dead letter at once.
    const other = createEvent("user.updated");
    const otherClaim = await store.claim(other.id, "another-body-hash");
    if (otherClaim.status !== "claimed") throw new Error("expected a claim");
    await store.complete(other.id, otherClaim.token);
    await webhooks.handle(post(other));
    await vi.waitFor(async () => expect(await jobs.getJobState(other.id)).toBe("failed"), { timeout: 5_000 });
    expect(runs).toEqual([held.id]);
    expect((await jobs.getJob(other.id))?.failedReason).toMatch(/^event_conflict: /);
    expect(lines.map((line) => line.fields.code)).toEqual(["event_conflict"]);
  });

  it("refuses bad options with invalid_configuration", () => {
    const router = createWebhooks({ secret, store: false });
    const bad: unknown[] = [
      undefined,
      {},
      { connection, name: "a:b" },
      { connection, attempts: 0 },
      { connection, backoffMs: 1.5 },
      { connection, concurrency: 0 },
      { connection, stalledIntervalMs: 10 },
    ];
    for (const options of bad) {
      expect(() => createWorker(router, options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: "invalid_configuration" }),
      );
    }
    expect(() => createWorker({} as never, { connection })).toThrow(
      expect.objectContaining({ code: "invalid_configuration" }),
    );
  });
});
