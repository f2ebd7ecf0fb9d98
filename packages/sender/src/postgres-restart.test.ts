// Pending retries across real sender processes on one real PostgreSQL (postgres-restart.worker.ts, run
// with tsx): a sender SIGKILLed with retries pending is replaced by a new process that sends each one
// once, when it is due on its virtual clock; and two processes resuming the same pending retries send
// each exactly once between them. A loopback receiver in this process counts every request.
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { postgresSenderStore } from "./postgres-store";
import { checkPostgres, DATABASE_URL, setupSchema } from "./test-postgres";
import { MINUTE, org, START, startServer, type TestServer, user } from "./test-server";

const up = await checkPostgres();
const worker = fileURLToPath(new URL("./postgres-restart.worker.ts", import.meta.url));

interface SenderProcess {
  child: ChildProcess;
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  kill(): Promise<void>;
}

type Progress = { now: number; pending: number; recorded: number };

describe.runIf(up)("pending retries across sender processes (real PostgreSQL, SIGKILL)", () => {
  let db: Awaited<ReturnType<typeof setupSchema>>;
  let receiver: TestServer;
  let status = 500;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    db = await setupSchema();
    // Answers after 20 ms, so the attempts of two processes overlap.
    receiver = await startServer((_request, response) => {
      const answer = status;
      setTimeout(() => response.writeHead(answer).end(), 20);
    });
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
    await db.pool.query("TRUNCATE webhooks CASCADE");
    receiver.requests.length = 0;
    status = 500;
  });
  afterAll(async () => {
    await receiver?.close();
    await db?.cleanup();
  });

  async function spawnSender(start: number): Promise<SenderProcess> {
    const child = fork(worker, {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, DATABASE_URL, SCHEMA: db.schema, START: String(start) },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve());
      child.once("exit", (code) => reject(new Error(`sender process exited with ${code}`)));
    });
    let seq = 0;
    const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
    child.on("message", (message: { seq: number; result?: unknown; error?: string }) => {
      const call = waiting.get(message.seq);
      waiting.delete(message.seq);
      if (message.error !== undefined) call?.reject(new Error(message.error));
      else call?.resolve(message.result);
    });
    return {
      child,
      call: <T>(op: string, ...args: unknown[]) =>
        new Promise<T>((resolve, reject) => {
          waiting.set(++seq, { resolve: resolve as (value: unknown) => void, reject });
          child.send({ seq, op, args });
        }),
      kill: async () => {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      },
    };
  }

  /** Requests per endpoint path and event id, e.g. { "/a evt_…": 2 }. */
  function requestsPerJob(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const request of receiver.requests) {
      const key = `${request.path} ${JSON.parse(request.body.toString()).id}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  async function setUp(events: number): Promise<{ first: SenderProcess; jobs: number }> {
    const first = await spawnSender(START);
    for (const path of ["/a", "/b"]) {
      await first.call("createWebhook", org.id, `http://127.0.0.1:${receiver.port}${path}`, ["user.created"]);
    }
    for (let i = 0; i < events; i++) await first.call("emit", "user.created", { user }, org);
    return { first, jobs: events * 2 };
  }

  it("a new process sends each retry of a SIGKILLed one once, when it is due", async () => {
    const { first, jobs } = await setUp(3);
    await first.call("advance", MINUTE); // attempt 2s fail too: attempt 3s due at START + 6 min
    expect(receiver.requests).toHaveLength(2 * jobs);
    await first.kill();
    expect(first.child.signalCode).toBe("SIGKILL");

    const second = await spawnSender(START + 2 * MINUTE); // restarted a minute after the kill
    expect(await second.call("resume")).toBe(jobs);
    await second.call("advance", 4 * MINUTE - 1); // START + 6 min - 1 ms: not due yet
    expect(receiver.requests).toHaveLength(2 * jobs);
    status = 200;
    const progress = await second.call<Progress>("advance", 1);
    expect(progress).toMatchObject({ now: START + 6 * MINUTE, pending: 0, recorded: jobs });
    expect([...requestsPerJob().values()]).toEqual(Array(jobs).fill(3));

    await second.call("advance", 3 * 60 * MINUTE); // nothing else is left to send
    expect(receiver.requests).toHaveLength(3 * jobs);
    expect(await postgresSenderStore({ client: db.pool }).listPendingAttempts!()).toEqual([]);
    const { rows } = await db.pool.query(
      "SELECT attempt, success, count(*)::int AS n FROM webhook_deliveries GROUP BY 1, 2 ORDER BY 1",
    );
    expect(rows).toEqual([
      { attempt: 1, success: false, n: jobs },
      { attempt: 2, success: false, n: jobs },
      { attempt: 3, success: true, n: jobs },
    ]);
  }, 60_000);

  it("two processes resuming the same retries send each attempt exactly once", async () => {
    const { first, jobs } = await setUp(12);
    await first.kill(); // attempt 2s pending, due at START + 1 min

    const [b, c] = await Promise.all([spawnSender(START), spawnSender(START)]);
    expect(await Promise.all([b!.call("resume"), c!.call("resume")])).toEqual([jobs, jobs]);

    // Attempt 2: both processes come due at once; each attempt is sent by one of them and fails.
    const second = await Promise.all([
      b!.call<Progress>("advance", MINUTE),
      c!.call<Progress>("advance", MINUTE),
    ]);
    expect([...requestsPerJob().values()]).toEqual(Array(jobs).fill(2));
    expect(second[0]!.recorded + second[1]!.recorded).toBe(jobs);
    // Attempt 3 is scheduled only by the process that made attempt 2.
    expect(second[0]!.pending + second[1]!.pending).toBe(jobs);

    status = 200;
    const third = await Promise.all([
      b!.call<Progress>("advance", 5 * MINUTE),
      c!.call<Progress>("advance", 5 * MINUTE),
    ]);
    expect([...requestsPerJob().values()]).toEqual(Array(jobs).fill(3));
    expect(third[0]!.recorded + third[1]!.recorded).toBe(2 * jobs);
    console.info(
      `attempts made per process: ${third[0]!.recorded} and ${third[1]!.recorded} (of ${2 * jobs})`,
    );

    await Promise.all([b!.call("advance", 2 * 60 * MINUTE), c!.call("advance", 2 * 60 * MINUTE)]);
    expect(receiver.requests).toHaveLength(3 * jobs);
    const { rows } = await db.pool.query(
      "SELECT attempt, count(*)::int AS n, count(DISTINCT (webhook_id, event_id))::int AS jobs FROM webhook_deliveries GROUP BY 1 ORDER BY 1",
    );
    expect(rows).toEqual([
      { attempt: 1, n: jobs, jobs },
      { attempt: 2, n: jobs, jobs },
      { attempt: 3, n: jobs, jobs },
    ]);
  }, 60_000);
});
