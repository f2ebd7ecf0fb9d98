// Helpers for this package's tests (not part of the published build): the real PostgreSQL on
// 127.0.0.1:5432 (trust auth, database `test`), a table of its own per test file.
import { randomUUID } from "node:crypto";
import { DATABASE_URL, requireService } from "@optare/webhooks-testing/services";
import pg from "pg";
import postgres from "postgres";
import postgres4 from "postgres-v4";
import { migrate } from "./migrate";

export { DATABASE_URL };

/** Whether PostgreSQL answers; see `requireService`. */
export const checkPostgres = () => requireService("the @optare/webhooks-postgres tests", DATABASE_URL);

/** A table name no other test run uses. */
export function createTableName(): string {
  return `optare_test_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

/**
 * The postgres.js majors the package supports, each tested: `postgres` (3.x) and `postgres-v4` (4.x),
 * both dev dependencies. A test that uses postgres.js runs once per major, its title naming it.
 */
export const POSTGRES_JS_MAJORS = [3, 4] as const;
export type PostgresJsMajor = (typeof POSTGRES_JS_MAJORS)[number];
export const postgresJsName = (major: PostgresJsMajor) => `postgres.js ${major}`;

/**
 * pg, postgres.js of each major on the test database, a migrated table of this run's own, and a cleanup.
 * `sql` is postgres.js 3's; `postgresJs[major]` each major's, typed as 3.x's so one test body serves
 * both (the 4.x types are checked in a test of their own, with `sql4`).
 */
export async function setupDatabase() {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 20 });
  const sql = postgres(DATABASE_URL, { max: 20, onnotice: () => {} });
  const sql4 = postgres4(DATABASE_URL, { max: 20, onnotice: () => {} });
  const postgresJs: Record<PostgresJsMajor, postgres.Sql> = { 3: sql, 4: sql4 as unknown as postgres.Sql };
  const table = createTableName();
  await migrate(pool, { table });
  const cleanup = async () => {
    await pool.query(`DROP TABLE IF EXISTS "${table}"`);
    await Promise.all([pool.end(), sql.end(), sql4.end()]);
  };
  return { pool, sql, sql4, postgresJs, table, cleanup };
}
