// Exactly-once effects across crashes (issue 9): several receiver processes (crash.worker.ts) share one
// PostgreSQL through a transactional postgresStore. Every event is delivered 2–3 times at once, to
// different receivers; the handler inserts a row into an app table with no unique constraint, through
// `context.transaction`, and lingers inside the transaction. Meanwhile receivers are SIGKILLed just
// after one of their handlers inserted (its transaction still open), and restarted as new processes.
// The test acts as the sender: each delivery is retried (connection error, 5xx, 409) until it gets a
// 200. Afterwards the app table must hold exactly one row per event, and every event be `completed`.
import { type ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPostgres, DATABASE_URL, setupDatabase } from "./test-postgres";

const postgresUp = await checkPostgres();
const secret = "0123456789abcdef".repeat(4);
/** Receiver slots: each runs one process at a time, replaced by a new one when killed. */
const RECEIVERS = 4;
const EVENTS = 500;
/** One event starts every this many ms (2–3 deliveries each): ~10 s of traffic for the kills to hit… */
const LAUNCH_EVERY_MS = 20;
/** …or every this many while the kills lag behind their schedule. */
const SLOW_LAUNCH_EVERY_MS = 60;
const MIN_KILLS = 10;
/** Kills right after an insert: spread over the launches. */
const TARGET_KILLS = 14;
/** The sender gives up here; the test then fails on the deliveries left unacknowledged. */
const DEADLINE_MS = 90_000;

const worker = fileURLToPath(new URL("./crash.worker.ts", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Slot {
  index: number;
  child?: ChildProcess;
  /** Set while the process listens; unset from the kill until its successor listens. */
  port?: number;
  /** Handlers in flight, as the process last reported (with an insert). */
  inFlight: number;
  /** Kill the process at its next insert. */
  armed?: (inFlight: number, eventId: string) => void;
}

interface Kill {
  slot: number;
  pid: number;
  /** The kill came right after an insert (that handler's transaction still open), not on the fallback. */
  afterInsert: boolean;
  /** Handlers in flight in the killed process, as it last reported. */
  inFlight: number;
}

describe.runIf(postgresUp)("receiver processes SIGKILLed mid-handler, one PostgreSQL", () => {
  let db: Awaited<ReturnType<typeof setupDatabase>>;
  const appTable = `optare_test_app_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const slots: Slot[] = Array.from({ length: RECEIVERS }, (_, index) => ({ index, inFlight: 0 }));
  const children = new Set<ChildProcess>();
  const unexpectedExits: string[] = [];
  let stopping = false;
  /** Successors of killed processes, starting. */
  const restarts: Promise<void>[] = [];
  let starts = 0;
  /** From fork to listening, per process. */
  const startupMs: number[] = [];
  let inserts = 0;

  /** Starts a receiver process in `slot`; resolves once it listens. */
  function start(slot: Slot): Promise<void> {
    starts++;
    const forked = performance.now();
    const child = fork(worker, {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, DATABASE_URL, TABLE: db.table, APP_TABLE: appTable, SECRET: secret },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    children.add(child);
    slot.child = child;
    slot.inFlight = 0;
    return new Promise((resolve, reject) => {
      child.on("message", (message: { port?: number; inserted?: string; inFlight?: number }) => {
        if (message.port !== undefined) {
          slot.port = message.port;
          startupMs.push(performance.now() - forked);
          resolve();
        } else if (message.inserted !== undefined && slot.child === child) {
          inserts++;
          slot.inFlight = message.inFlight ?? 0;
          slot.armed?.(slot.inFlight, message.inserted);
        }
      });
      child.once("exit", (code, signal) => {
        children.delete(child);
        if (signal !== "SIGKILL" && !stopping) {
          unexpectedExits.push(`receiver ${child.pid} exited with ${code ?? signal}`);
        }
        reject(new Error(`receiver ${child.pid} exited with ${code ?? signal} before listening`));
      });
    });
  }

  /**
   * SIGKILLs `slot`'s process right after its next insert (or after 1 s); resolves once it is gone,
   * its successor starting.
   */
  async function kill(slot: Slot): Promise<Kill> {
    const child = slot.child!;
    const record = await new Promise<Kill>((resolve) => {
      const fire = (afterInsert: boolean, inFlight: number) => {
        clearTimeout(fallback);
        slot.armed = undefined;
        slot.port = undefined; // No new deliveries to it from now on.
        child.kill("SIGKILL");
        resolve({ slot: slot.index, pid: child.pid!, afterInsert, inFlight });
      };
      const fallback = setTimeout(() => fire(false, slot.inFlight), 1_000);
      slot.armed = (inFlight) => fire(true, inFlight);
    });
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise((resolve) => child.once("exit", resolve));
    }
    // A successor that dies before listening is in unexpectedExits.
    if (!stopping) restarts.push(start(slot).catch(() => {}));
    return record;
  }

  beforeAll(async () => {
    db = await setupDatabase();
    await db.pool.query(
      `CREATE TABLE "${appTable}" (event_id text NOT NULL, pid integer NOT NULL, inserted_at timestamptz NOT NULL DEFAULT clock_timestamp())`,
    );
    await Promise.all(slots.map(start));
  }, 60_000);

  afterAll(async () => {
    stopping = true;
    const exits = [...children].map((child) => new Promise((resolve) => child.once("exit", resolve)));
    for (const child of children) child.kill("SIGKILL");
    await Promise.all(exits);
    if (db) {
      await db.pool.query(`DROP TABLE IF EXISTS "${appTable}"`);
      await db.cleanup();
    }
  }, 30_000);

  it("inserts exactly one row per event through SIGKILLs of its receivers", async () => {
    const started = performance.now();
    const deadline = Date.now() + DEADLINE_MS;
    const statuses: Record<string, number> = {};
    const unexpected: string[] = [];
    let sent = 0;
    let acknowledged = 0;
    let inTime = true;

    /** One delivery, retried like the sender until a 200 (false: the deadline passed first). */
    async function deliver(body: string, headers: Record<string, string>, first: number): Promise<boolean> {
      for (let attempt = 0; ; attempt++) {
        if (Date.now() > deadline) return false;
        // Its own receiver first, then the others in turn; skip ones being restarted.
        const slot = Array.from({ length: RECEIVERS }, (_, step) => step)
          .map((step) => slots[(first + attempt + step) % RECEIVERS]!)
          .find((candidate) => candidate.port !== undefined);
        if (slot === undefined) {
          await sleep(20);
          continue;
        }
        sent++;
        let status: string;
        try {
          const response = await fetch(`http://127.0.0.1:${slot.port}/webhooks/optare`, {
            method: "POST",
            body,
            headers,
            signal: AbortSignal.timeout(20_000),
          });
          const text = await response.text();
          status = String(response.status);
          if (![200, 409].includes(response.status)) unexpected.push(`${status} ${text}`);
        } catch {
          status = "connection error";
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === "200") return true;
        await sleep(10 + Math.random() * 40);
      }
    }

    // The kills, at random moments while events are being launched, each right after an insert of the
    // process (its transaction open): never the last receiver listening.
    const kills: Kill[] = [];
    const midHandler = () => kills.filter((kill) => kill.afterInsert).length;
    let launching = true;
    const killing = (async () => {
      while (launching && midHandler() < TARGET_KILLS) {
        await sleep(150 + Math.random() * 350);
        const live = slots.filter((slot) => slot.port !== undefined);
        if (live.length < 2 || !launching) continue;
        kills.push(await kill(live[Math.floor(Math.random() * live.length)]!));
      }
    })();

    const events = Array.from({ length: EVENTS }, () => createEvent("user.created"));
    const running: Promise<void>[] = [];
    let copies = 0;
    for (const [index, event] of events.entries()) {
      const { body, headers } = signEvent(event, secret);
      const count = 2 + (index % 2); // 2 or 3 copies, at once, each to a different receiver
      copies += count;
      for (let copy = 0; copy < count; copy++) {
        running.push(
          deliver(body, headers, (index + copy) % RECEIVERS).then((ok) => {
            if (ok) acknowledged++;
            else inTime = false;
          }),
        );
      }
      // Slower while the kills lag behind (restarts take seconds on a busy machine), never stopping:
      // a kill waits for an insert.
      const behind = midHandler() < Math.ceil((TARGET_KILLS * (index + 1)) / EVENTS);
      await sleep(behind ? SLOW_LAUNCH_EVERY_MS : LAUNCH_EVERY_MS);
    }
    launching = false;
    await killing;
    await Promise.all(running);
    await Promise.all(restarts);
    const durationMs = performance.now() - started;

    const { rows } = await db.pool.query<{ event_id: string; count: string }>(
      `SELECT event_id, count(*) FROM "${appTable}" GROUP BY event_id`,
    );
    const rowsPerEvent = new Map(rows.map((row) => [row.event_id, Number(row.count)]));
    const ids = new Set(events.map((event) => event.id));
    const totalRows = [...rowsPerEvent.values()].reduce((sum, count) => sum + count, 0);
    const duplicates = [...rowsPerEvent].filter(([, count]) => count > 1);
    const missing = events.filter((event) => !rowsPerEvent.has(event.id)).map((event) => event.id);
    const strangers = [...rowsPerEvent.keys()].filter((id) => !ids.has(id));
    const { rows: logged } = await db.pool.query<{ status: string; count: string }>(
      `SELECT status, count(*) FROM "${db.table}" WHERE id = ANY($1::text[]) GROUP BY status`,
      [[...ids]],
    );
    const byStatus = Object.fromEntries(logged.map((row) => [row.status, Number(row.count)]));

    console.info(
      [
        "crash test:",
        `  receivers ${RECEIVERS} slots, ${starts} processes started (fork to listening: ${startupMs.map((ms) => Math.round(ms)).join(",")} ms)`,
        `  events ${EVENTS}, deliveries ${copies} (2–3 per event, concurrent), acknowledged ${acknowledged}`,
        `  HTTP requests sent ${sent}: ${JSON.stringify(statuses)}`,
        `  kills ${kills.length} (SIGKILL; ${midHandler()} right after one of its handlers inserted, before that handler's commit unless the IPC message lagged; handlers in flight per kill: ${kills.map((kill) => kill.inFlight).join(",")})`,
        `  handler inserts ${inserts}, rolled back (by the kills) ${inserts - totalRows}`,
        `  app rows ${totalRows} for ${rowsPerEvent.size} events: duplicates ${duplicates.length}, missing ${missing.length}`,
        `  event table: ${JSON.stringify(byStatus)}`,
        `  duration ${(durationMs / 1000).toFixed(1)} s`,
      ].join("\n"),
    );

    expect(inTime, "every delivery acknowledged with a 200 before the deadline").toBe(true);
    expect(acknowledged).toBe(copies);
    expect(unexpected).toEqual([]);
    expect(unexpectedExits).toEqual([]);
    expect(kills.length).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(midHandler()).toBeGreaterThanOrEqual(MIN_KILLS);
    expect(duplicates).toEqual([]);
    expect(missing).toEqual([]);
    expect(strangers).toEqual([]);
    expect(totalRows).toBe(EVENTS);
    expect(byStatus).toEqual({ completed: EVENTS });
  }, 120_000);
});
