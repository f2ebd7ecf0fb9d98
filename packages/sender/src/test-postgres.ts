// Helpers for this package's PostgreSQL tests (not part of the published build): the real PostgreSQL
// on 127.0.0.1:5432 (trust auth, database `test`), a schema of its own per test file, so the docs'
// table names (`webhooks`, `webhook_deliveries`) never meet another run's.
import { randomUUID } from "node:crypto";
import { DATABASE_URL, requireService } from "@optare/webhooks-testing/services";
import pg from "pg";
import postgres from "postgres";
import postgres4 from "postgres-v4";
import { migrate } from "./postgres-store";

export { DATABASE_URL };

/** Whether PostgreSQL answers; see `requireService`. */
export const checkPostgres = () =>
  requireService("the @optare/webhooks-sender PostgreSQL tests", DATABASE_URL);

/** A pg Pool whose connections see `schema` first (`search_path`). */
export function createPool(schema: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max, options: `-c search_path=${schema}` });
  pool.on("error", () => {}); // a connection the server closed must not crash the test process
  return pool;
}

/**
 * The postgres.js majors the sender supports, each tested: `postgres` (3.x) and `postgres-v4` (4.x),
 * both dev dependencies.
 */
export const POSTGRES_JS_MAJORS = [3, 4] as const;

/**
 * A fresh migrated schema, pg and postgres.js of each major on it, and a cleanup that drops it. `sql` is
 * postgres.js 3's, `sql4` 4.x's; `postgresJs[major]` either.
 */
export async function setupSchema() {
  const schema = `optare_sender_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = createPool(schema);
  const options = { max: 10, onnotice: () => {}, connection: { search_path: schema } };
  const sql = postgres(DATABASE_URL, options);
  const sql4 = postgres4(DATABASE_URL, options);
  const postgresJs = { 3: sql, 4: sql4 };
  await migrate(pool);
  const cleanup = async () => {
    await Promise.all([pool.end(), sql.end(), sql4.end()]);
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  };
  return { schema, pool, sql, sql4, postgresJs, cleanup };
}
