// The PostgreSQL store against the real PostgreSQL on 127.0.0.1:5432 (database test) and Redis on
// 127.0.0.1:6379, in one run:
// 1. handle() throughput with no idempotency (the baseline), redisStore (ioredis), postgresStore plain
//    (pg Pool), postgresStore transactional (pg Pool; the handler INSERTs one row through
//    context.transaction) and the same on postgres.js, as ratios to the baseline;
// 2. statements per processed event, counted on the client (a wrapped pg Pool and its PoolClients;
//    postgres.js's debug hook): plain = claim + complete, transactional = BEGIN + claim + the handler's
//    INSERT + complete + COMMIT;
// 3. how fast a duplicate is refused (409) while the first delivery's transaction is open: it must not
//    wait on the row lock (pg_try_advisory_xact_lock), so it should cost about what a 200 duplicate does.
// Runs against the built packages (`pnpm build` first). Tables and keys of its own, dropped at the end.
import { createHash, createHmac, randomUUID } from "node:crypto";
import { createWebhooks } from "@optare/webhooks";
import { migrate, postgresStore } from "@optare/webhooks-postgres";
import { redisStore } from "@optare/webhooks-redis";
import { Redis } from "ioredis";
import pg from "pg";
import postgres from "postgres";
import { compareAsync } from "./harness.mjs";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const secret = "0123456789abcdef".repeat(4);
const timestamp = new Date().toISOString();
const run = randomUUID().replaceAll("-", "").slice(0, 12);
const prefix = `optare:bench:pg:${run}:`;
const CONCURRENCY = 16;
/** Events counted one by one for the statements per event. */
const COUNTED = 200;
/** Duplicates sent one at a time for each latency figure. */
const DUPLICATES = 300;

// Each call is a distinct event (a repeated id would only measure the duplicate path).
function delivery(name, i) {
  const body = `{"event":"user.created","timestamp":"${timestamp}","id":"evt_${run}_${name}_${i}","data":{"user":{"id":"user_123","email":"john@example.com","name":"John Doe","emailVerified":false,"createdAt":"${timestamp}"}},"organization":{"id":"org_abc","name":"Acme Inc"}}`;
  const signature = createHmac("sha256", secret).update(body).digest("hex");
  return { body, headers: { "content-type": "application/json", "x-optare-signature": signature } };
}
const request = ({ body, headers }) =>
  new Request("http://localhost/webhooks/optare", { method: "POST", body, headers });

const table = (name) => `optare_bench_${run}_${name}`;
const tables = { plain: table("plain"), tx: table("tx"), js: table("js"), app: table("app") };

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: CONCURRENCY + 2 });
const sql = postgres(DATABASE_URL, { max: CONCURRENCY + 2, onnotice: () => {} });
const ioredis = new Redis("redis://127.0.0.1:6379");
for (const name of ["plain", "tx", "js"]) await migrate(pool, { table: tables[name] });
await pool.query(`CREATE TABLE "${tables.app}" (event_id text NOT NULL)`);
const { rows: settings } = await pool.query(
  "SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS sync",
);
console.log(
  `PostgreSQL ${settings[0].version}, synchronous_commit=${settings[0].sync}: every commit waits for its WAL flush`,
);
const insert = `INSERT INTO "${tables.app}" (event_id) VALUES ($1)`;

/** handle() for `store`, with `handler` on user.created; throws unless the answer is `expect`. */
function receiver(store, handler = () => {}) {
  const webhooks = createWebhooks({ secret, store, logger: false });
  webhooks.on("user.created", handler);
  return async (input, expect = 200) => {
    const response = await webhooks.handle(request(input));
    if (response.status !== expect) throw new Error(`${response.status} ${await response.text()}`);
  };
}
const pgInsert = (event, { transaction }) => transaction.query(insert, [event.id]);
const jsInsert = (event, { transaction: tx }) =>
  tx`INSERT INTO ${tx(tables.app)} (event_id) VALUES (${event.id})`;

// --- 1. Statements per event, counted on the client ---------------------------------------------

function kind(text) {
  const start = text.trimStart().slice(0, 40).toLowerCase();
  if (/^(begin|commit|rollback)/.test(start)) return start.split(/\s/)[0].toUpperCase();
  if (text.includes(tables.app)) return "handler INSERT";
  if (start.startsWith("with lock")) return "claim (advisory lock + upsert)";
  if (start.startsWith("insert into")) return "claim (upsert)";
  if (text.includes("status = 'completed'")) return "complete";
  return `other: ${start}`;
}
let statements = new Map();
const count = (text) => statements.set(kind(text), (statements.get(kind(text)) ?? 0) + 1);

/** `target` with some methods replaced; everything else is the target's, bound to it. */
function override(target, methods) {
  return new Proxy(target, {
    get(object, property) {
      if (Object.hasOwn(methods, property)) return methods[property];
      const value = Reflect.get(object, property, object);
      return typeof value === "function" ? value.bind(object) : value;
    },
  });
}
/** The pool, counting every statement it and the clients it hands out run. */
const countingPool = override(pool, {
  query: (text, ...rest) => {
    count(text);
    return pool.query(text, ...rest);
  },
  connect: async () => {
    const client = await pool.connect();
    return override(client, {
      query: (text, ...rest) => {
        count(text);
        return client.query(text, ...rest);
      },
    });
  },
});
const countingSql = postgres(DATABASE_URL, { max: 1, onnotice: () => {}, debug: (_id, text) => count(text) });
await countingSql`SELECT 1`; // its connection's one-off type lookup, before counting

async function perEvent(name, handle) {
  statements = new Map();
  for (let i = 0; i < COUNTED; i++) await handle(delivery(`count_${name}`, i));
  const total = [...statements.values()].reduce((sum, n) => sum + n, 0) / COUNTED;
  const parts = [...statements].map(([what, n]) => `${what} ${n / COUNTED}`).join(" + ");
  return { total, parts };
}
const counted = {
  plain: await perEvent("plain", receiver(postgresStore({ client: countingPool, table: tables.plain }))),
  tx: await perEvent(
    "tx",
    receiver(postgresStore({ client: countingPool, table: tables.tx, transactional: true }), pgInsert),
  ),
  js: await perEvent(
    "js",
    receiver(postgresStore({ client: countingSql, table: tables.js, transactional: true }), jsInsert),
  ),
};
await countingSql.end();
console.log(`\nStatements per processed event (counted on the client over ${COUNTED} events):`);
console.log(`  postgresStore plain (pg):               ${counted.plain.total}  = ${counted.plain.parts}`);
console.log(`  postgresStore transactional (pg):       ${counted.tx.total}  = ${counted.tx.parts}`);
console.log(`  postgresStore transactional (postgres.js): ${counted.js.total}  = ${counted.js.parts}`);
const exactStatements = counted.plain.total === 2 && counted.tx.total === 5 && counted.js.total === 5;

// --- 2. Throughput ------------------------------------------------------------------------------

const none = receiver(false);
const viaRedis = receiver(redisStore({ client: ioredis, prefix }));
const plain = receiver(postgresStore({ client: pool, table: tables.plain }));
const tx = receiver(postgresStore({ client: pool, table: tables.tx, transactional: true }), pgInsert);
const js = receiver(postgresStore({ client: sql, table: tables.js, transactional: true }), jsInsert);

const ratios = await compareAsync(
  `handle(): verify + parse + validate + idempotency (+ one INSERT in the transactional cases), ${CONCURRENCY} concurrent`,
  [
    { name: "no idempotency (store: false)", fn: (i) => none(delivery("none", i)), baseline: true },
    { name: "redisStore (ioredis)", fn: (i) => viaRedis(delivery("redis", i)) },
    { name: "postgresStore plain (pg)", fn: (i) => plain(delivery("plain", i)) },
    { name: "postgresStore tx + INSERT (pg)", fn: (i) => tx(delivery("tx", i)) },
    { name: "postgresStore tx + INSERT (postgres.js)", fn: (i) => js(delivery("js", i)) },
  ],
  { rounds: 7, batch: 1000, concurrency: CONCURRENCY },
);

// --- 3. A duplicate while the first delivery's transaction is open ------------------------------

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
async function timed(times, handle, input, expect) {
  const ms = [];
  for (let i = 0; i < times; i++) {
    const start = performance.now();
    await handle(input, expect);
    ms.push(performance.now() - start);
  }
  return ms;
}
const figures = (ms) => `p50 ${percentile(ms, 50).toFixed(2)} ms, p99 ${percentile(ms, 99).toFixed(2)} ms`;

const held = delivery("held", 0);
const heldId = JSON.parse(held.body).id;
let started;
const running = new Promise((resolve) => (started = resolve));
let release;
const gate = new Promise((resolve) => (release = resolve));
const holding = receiver(
  postgresStore({ client: pool, table: tables.tx, transactional: true }),
  async (event, context) => {
    await pgInsert(event, context);
    if (event.id === heldId) {
      started();
      await gate; // the transaction stays open (its claim row locked) until released
    }
  },
);
const first = holding(held);
await running;
const openConflicts = await timed(DUPLICATES, holding, held, 409);
release();
await first;
const txDuplicates = await timed(DUPLICATES, holding, held, 200);

// For reference, the plain store's answers: a 200 duplicate, and a 409 from a live processing record.
const plainStore = postgresStore({ client: pool, table: tables.plain });
const plainReceiver = receiver(plainStore);
const plainDone = delivery("plain_done", 0);
await plainReceiver(plainDone);
const plainDuplicates = await timed(DUPLICATES, plainReceiver, plainDone, 200);
const plainInFlight = delivery("plain_flight", 0);
// A live processing record of this very body, as a receiver in another process would hold it.
await plainStore.claim(
  JSON.parse(plainInFlight.body).id,
  createHash("sha256").update(plainInFlight.body).digest("base64url"),
);
const plainConflicts = await timed(DUPLICATES, plainReceiver, plainInFlight, 409);

console.log(`\nAnswering a duplicate, ${DUPLICATES} sent one at a time (handle() to its Response):`);
console.log(`  409, first delivery's transaction open (tx store):  ${figures(openConflicts)}`);
console.log(`  200 duplicate after its commit (tx store):           ${figures(txDuplicates)}`);
console.log(`  200 duplicate (plain store):                         ${figures(plainDuplicates)}`);
console.log(`  409, live processing record (plain store):           ${figures(plainConflicts)}`);

// --- Checks and clean-up --------------------------------------------------------------------------

const { rows } = await pool.query(
  `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS events FROM "${tables.app}"`,
);
const onceEach = rows[0].rows === rows[0].events;
for (const name of Object.values(tables)) await pool.query(`DROP TABLE IF EXISTS "${name}"`);
let cursor = "0";
do {
  const [next, keys] = await ioredis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 5000);
  cursor = next;
  if (keys.length) await ioredis.del(...keys);
} while (cursor !== "0");
ioredis.disconnect();
await Promise.all([pool.end(), sql.end()]);

const noWait = percentile(openConflicts, 99) < 50;
console.log(
  `\n${exactStatements ? "✓" : "✗"} statements per event: plain ${counted.plain.total} (claim + complete = 2), transactional ${counted.tx.total} (pg) / ${counted.js.total} (postgres.js) (BEGIN + claim + INSERT + complete + COMMIT = 5)`,
);
console.log(
  `${noWait ? "✓" : "✗"} a duplicate of an event in an open transaction is answered 409 without waiting: p50 ${percentile(openConflicts, 50).toFixed(2)} ms vs ${percentile(txDuplicates, 50).toFixed(2)} ms for a 200 duplicate (${(percentile(openConflicts, 50) / percentile(txDuplicates, 50)).toFixed(2)}×)`,
);
console.log(`${onceEach ? "✓" : "✗"} handler INSERTs: ${rows[0].rows} rows for ${rows[0].events} events`);
console.log(
  `throughput vs no idempotency: redis ${pct(ratios["redisStore (ioredis)"])}, postgres plain ${pct(ratios["postgresStore plain (pg)"])}, tx + INSERT pg ${pct(ratios["postgresStore tx + INSERT (pg)"])}, postgres.js ${pct(ratios["postgresStore tx + INSERT (postgres.js)"])}`,
);
function pct(ratio) {
  return `${(ratio * 100).toFixed(0)}%`;
}
if (!exactStatements || !noWait || !onceEach) process.exitCode = 1;
