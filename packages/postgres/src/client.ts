// The two clients behind one small interface: a statement with its parameters, and a transaction on a
// connection of its own. node-postgres (`pg`): a `Pool`, or for non-transactional use a `Client`.
// postgres.js: the `sql` function from `postgres(url)`.
import { WebhookError } from "@optare/webhooks";
import type { PoolClient, QueryResultRow } from "pg";
import type { Sql, TransactionSql } from "postgres";

/** The part of a node-postgres `Pool` (or `Client`) the store uses. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: QueryResultRow[]; rowCount: number | null }>;
}
/** A node-postgres `Pool`: `connect()` hands out a client of its own, released afterwards. */
export interface PgPool extends PgQueryable {
  connect(): Promise<PoolClient>;
  readonly totalCount: number;
}

/** Either client, as `postgresStore({ client })` takes it. */
export type PostgresClient = PgQueryable | Sql;

/** The handle handlers get as `context.transaction`: a pg `PoolClient`, or a postgres.js `TransactionSql`. */
export type TransactionOf<C> = C extends Sql ? TransactionSql : C extends PgPool ? PoolClient : never;

export interface Row {
  [column: string]: unknown;
}

export interface Db {
  /** One statement; resolves with its rows and the number of rows it touched. */
  query(text: string, params: unknown[]): Promise<{ rows: Row[]; count: number }>;
  /**
   * Runs `work` in a transaction on a connection of its own: committed when it resolves, rolled back
   * when it rejects. `work` gets the statement runner and the client's own transaction handle.
   */
  transaction<T>(work: (db: Pick<Db, "query">, handle: unknown) => Promise<T>): Promise<T>;
}

const where = "postgresStore";

function isPostgresJs(client: unknown): client is Sql {
  return typeof client === "function" && typeof (client as Partial<Sql>).unsafe === "function";
}

function isPgPool(client: unknown): client is PgPool {
  const pool = client as Partial<PgPool> | null;
  return typeof pool?.connect === "function" && typeof pool.query === "function" && "totalCount" in pool;
}

function isPgQueryable(client: unknown): client is PgQueryable {
  return typeof (client as Partial<PgQueryable> | null)?.query === "function";
}

/** The store's view of `client`; `transactional` needs one that can open transactions of its own. */
export function createDb(client: unknown, transactional: boolean): Db {
  if (isPostgresJs(client)) {
    const begin = (client as Partial<Sql>).begin;
    if (typeof begin !== "function") {
      // A TransactionSql (inside sql.begin) has no begin: it is one connection, already in a transaction.
      throw new WebhookError(
        "invalid_configuration",
        `${where}: client is a postgres.js transaction (the sql of sql.begin(…)); pass the sql from postgres(url), which opens a transaction per event.`,
      );
    }
    // Prepared statements, unless the app turned them off (PgBouncer in transaction mode): unprepared,
    // postgres.js sends a Parse/Describe round trip before every statement (113 µs vs 50 µs measured).
    const prepare = (client as { options?: { prepare?: boolean } }).options?.prepare !== false;
    const run = (sql: Sql | TransactionSql) => async (text: string, params: unknown[]) => {
      const result = await sql.unsafe(text, params as never[], { prepare });
      return { rows: result as unknown as Row[], count: result.count };
    };
    return {
      query: run(client),
      transaction: (work) =>
        client.begin((tx) => work({ query: run(tx) }, tx)) as Promise<Awaited<ReturnType<typeof work>>>,
    };
  }
  if (isPgQueryable(client)) {
    const query = async (on: PgQueryable, text: string, params: unknown[]) => {
      const result = await on.query(text, params);
      return { rows: result.rows, count: result.rowCount ?? 0 };
    };
    if (transactional && !isPgPool(client)) {
      throw new WebhookError(
        "invalid_configuration",
        `${where}: transactional mode needs a pg Pool (new Pool(…)): each event runs in a transaction on a connection of its own, which a single Client or PoolClient cannot give.`,
      );
    }
    return {
      query: (text, params) => query(client, text, params),
      async transaction(work) {
        const connection = await (client as PgPool).connect();
        let broken: unknown;
        try {
          await connection.query("BEGIN");
          const result = await work({ query: (text, params) => query(connection, text, params) }, connection);
          await connection.query("COMMIT");
          return result;
        } catch (error) {
          await connection.query("ROLLBACK").catch((rollbackError: unknown) => {
            broken = rollbackError; // The connection is unusable: destroy it rather than pool it.
          });
          throw error;
        } finally {
          connection.release(broken instanceof Error ? broken : undefined);
        }
      },
    };
  }
  throw new WebhookError(
    "invalid_configuration",
    `${where}: client must be a node-postgres Pool (new Pool(…) from "pg") or a postgres.js sql (postgres(url)).`,
  );
}
