// Helpers for this package's tests (not part of the published build): the real PostgreSQL on
// 127.0.0.1:5432 (trust auth, database `test`), a table of its own per test file.
import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import pg from "pg";
import postgres from "postgres";
import { migrate } from "./migrate";

export const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

function listening(): Promise<boolean> {
  const { hostname, port } = new URL(DATABASE_URL);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 5432) });
    const finish = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on("error", () => finish(false));
    socket.on("connect", () => finish(true));
  });
}

/**
 * Whether PostgreSQL answers. When it does not: under `CI=true` this throws (the tests must fail),
 * otherwise it warns loudly and the caller skips its PostgreSQL tests.
 */
export async function checkPostgres(): Promise<boolean> {
  if (await listening()) return true;
  const message = `No PostgreSQL answers at ${DATABASE_URL}.`;
  if (process.env.CI === "true") throw new Error(`${message} CI=true requires it: start PostgreSQL.`);
  console.warn(
    `\n${"!".repeat(80)}\n!! SKIPPING the @optare/webhooks-postgres tests. ${message}\n!! Start PostgreSQL on 127.0.0.1:5432 (trust auth, database test).\n${"!".repeat(80)}\n`,
  );
  return false;
}

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
