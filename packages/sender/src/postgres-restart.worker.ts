// One sender process for postgres-restart.test.ts: `createSender` on a `postgresSenderStore` (pg Pool,
// the test's schema) and a virtual clock starting at START. The test drives it over IPC:
// { seq, op: "createWebhook" | "emit" | "resume" | "advance", args } → { seq, result } or { seq, error }.
import pg from "pg";
import { createVirtualClock } from "./clock";
import { postgresSenderStore } from "./postgres-store";
import { createSender } from "./sender";

const { DATABASE_URL = "", SCHEMA = "", START = "0" } = process.env;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8, options: `-c search_path=${SCHEMA}` });
pool.on("error", () => {});
const clock = createVirtualClock(Number(START));
let recorded = 0;
const sender = createSender({
  store: postgresSenderStore({ client: pool }),
  clock,
  allowInsecure: true, // the receiver is on loopback
  instanceId: `pid-${process.pid}`,
  onDelivery: () => recorded++,
});

type Message = { seq: number; op: string; args: unknown[] };
const ops: Record<string, (...args: never[]) => Promise<unknown>> = {
  createWebhook: (organizationId: string, url: string, events: string[]) =>
    sender.createWebhook(organizationId, url, events),
  emit: async (type: string, data: Record<string, unknown>, organization: { id: string; name: string }) =>
    (await sender.emit(type, data, organization)).event.id,
  resume: () => sender.resume(),
  advance: async (ms: number) => {
    await clock.advance(ms);
    return { now: clock.now(), pending: sender.pendingRetries, recorded };
  },
};

process.on("message", async ({ seq, op, args }: Message) => {
  try {
    process.send?.({ seq, result: await ops[op]!(...(args as never[])) });
  } catch (error) {
    process.send?.({ seq, error: String((error as Error)?.stack ?? error) });
  }
});
process.send?.({ ready: process.pid });
