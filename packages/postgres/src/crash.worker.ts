// One receiver process for crash.test.ts: a node:http server (createNodeHandler) in front of a
// transactional postgresStore on a pg Pool, sharing one database with its sibling processes. Its
// handler inserts a row into the app table through `context.transaction`, then lingers 0–30 ms inside
// the transaction (half in pg_sleep on the server, half awaiting a timer here), so the test's SIGKILLs
// land mid-handler. After each insert it tells the test (IPC) which event it inserted and how many
// handlers it has in flight: the test kills on such a message.
import { createServer } from "node:http";
import { createWebhooks } from "@optare/webhooks";
import { createNodeHandler } from "@optare/webhooks/node";
import pg from "pg";
import { postgresStore } from "./store";

const { DATABASE_URL = "", TABLE = "", APP_TABLE = "", SECRET = "" } = process.env;
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 8 });
// A killed sibling's connections are the server's to close; an idle client of ours erroring must not
// crash this process.
pool.on("error", () => {});

const webhooks = createWebhooks({
  secret: SECRET,
  store: postgresStore({ client: pool, table: TABLE, transactional: true }),
  logger: false,
});

let inFlight = 0;
webhooks.onAny(async (event, { transaction }) => {
  inFlight++;
  try {
    await transaction.query(`INSERT INTO "${APP_TABLE}" (event_id, pid) VALUES ($1, $2)`, [
      event.id,
      process.pid,
    ]);
    process.send?.({ inserted: event.id, inFlight });
    await transaction.query("SELECT pg_sleep($1::float8 / 1000)", [Math.random() * 15]);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 15));
  } finally {
    inFlight--;
  }
});

const handler = createNodeHandler(webhooks);
const server = createServer((req, res) => void handler(req, res));

server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.({ port: typeof address === "object" && address ? address.port : 0 });
});
process.on("disconnect", () => {
  server.close();
  server.closeAllConnections();
  void pool.end();
});
