// Helpers for this package's tests (not part of the published build): the real PostgreSQL on
// 127.0.0.1:5432 (trust auth, database `test`), a table of its own per test file.
import { randomUUID } from "node:crypto";
import { DATABASE_URL, requireService } from "@optare/webhooks-testing/services";
import pg from "pg";
import postgres from "postgres";
import { migrate } from "./migrate";

export { DATABASE_URL };

/** Whether PostgreSQL answers; see `requireService`. */
export const checkPostgres = () => requireService("the @optare/webhooks-postgres tests", DATABASE_URL);

/** A table name no other test run uses. */
export function createTableName(): string {
  return `optare_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/** Both clients on the test database, a migrated table of this run's own, and a cleanup. */
export async function setupDatabase() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
  const sql = postgres(DATABASE_URL, { max: 20, onnotice: () => {} });
  const table = createTableName();
  await migrate(pool, { table });
  const cleanup = async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await Promise.all([pool.end(), sql.end()]);
  };
  return { pool, sql, table, cleanup };
}
