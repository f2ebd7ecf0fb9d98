// The two clients behind one small interface: a statement with its parameters, and a transaction on a
// connection of its own. node-postgres (`pg`): a `Pool`, or for non-transactional use a `Client`.
// postgres.js (3.x or 4.x): the `sql` function from `postgres(url)`.
import { WebhookError } from "@optare/webhooks";

// node-postgres is taken by its shape too, not by importing the types of "pg": both clients are optional
// peers, and a published `.d.ts` that imported "pg" failed to type-check (TS2307, under
// `skipLibCheck: false`) in an app that uses postgres.js alone.

/** The part of a node-postgres `Pool` (or `Client`, or `PoolClient`) the store uses. */
export interface PgQueryable {
  query(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: { [column: string]: any }[]; rowCount: number | null }>;
}
/** A connection a node-postgres `Pool` hands out (its `PoolClient`), as the store uses it. */
export interface PgPoolClient extends PgQueryable {
  release(error?: Error | boolean): void;
}
/** A node-postgres `Pool`: `connect()` hands out a client of its own, released afterwards. */
export interface PgPool extends PgQueryable {
  connect(): Promise<PgPoolClient>;
  readonly totalCount: number;
}

/**
 * The part of a postgres.js `sql` (from `postgres(url)`) the store uses, by shape rather than imported
 * from "postgres", so the `sql` of either major (3.x, or 4.x whose types are another module) fits, and
 * these types do not depend on which one is installed, or whether one is.
 */
export interface PostgresJsSql {
  unsafe(query: string, parameters?: any[], options?: { prepare?: boolean }): PromiseLike<unknown>;
  /** The pool's `begin`; a transaction's `sql` (4.x: it has `begin`, for savepoints) has no `end`. */
  begin(work: (sql: any) => any): PromiseLike<unknown>;
  end(options?: { timeout?: number }): PromiseLike<void>;
  options?: { prepare?: boolean };
}

/** Either client, as `postgresStore({ client })` takes it. */
export type PostgresClient = PgQueryable | PostgresJsSql;

/**
 * The handle handlers get as `context.transaction`: a pg `PoolClient`, or the `TransactionSql` of the
 * postgres.js `sql` passed (its own major's, with its custom types), read off its `begin` (the last of
 * its overloads, `begin(options, work)`, is the one a conditional type sees).
 */
export type TransactionOf<C> = C extends PostgresJsSql
  ? C extends { begin(options: string, work: (sql: infer Tx) => any): any }
    ? Tx
    : C extends { begin(work: (sql: infer Tx) => any): any }
      ? Tx
      : never
  : C extends PgPool
    ? PoolClientOf<C>
    : never;

/**
 * The client a pg `Pool` hands out: its `PoolClient`, read off `connect`. pg declares the callback form
 * last, and the last overload is the one a conditional type sees.
 */
type PoolClientOf<C> = C extends {
  connect(callback: (error: any, client: infer Client, done: any) => void): void;
}
  ? Exclude<Client, undefined>
  : C extends { connect(): Promise<infer Client> }
    ? Client
    : never;

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

/** A postgres.js `sql`: the pool's, a transaction's (sql.begin) or a reserved connection's (sql.reserve). */
function isPostgresJs(client: unknown): client is PostgresJsSql {
  return typeof client === "function" && typeof (client as Partial<PostgresJsSql>).unsafe === "function";
}

/** What the store calls on a postgres.js `sql` (the pool's or a transaction's), in either major. */
interface PostgresJsRunner {
  unsafe(
    query: string,
    parameters: unknown[],
    options: { prepare: boolean },
  ): PromiseLike<Row[] & { count: number | null }>;
}
interface PostgresJsPool extends PostgresJsRunner {
  begin<T>(work: (tx: PostgresJsRunner) => Promise<T>): PromiseLike<T>;
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
    const pool = client as Partial<PostgresJsSql>;
    if (typeof pool.begin !== "function" || typeof pool.end !== "function") {
      // Only the pool's sql can end. A transaction's (inside sql.begin) is one connection, already in a
      // transaction: 3.x gives it no begin, 4.x one that opens a savepoint. A reserved one has neither.
      throw new WebhookError(
        "invalid_configuration",
        `${where}: client is a postgres.js transaction (the sql of sql.begin(…)) or reserved connection (sql.reserve()); pass the sql from postgres(url), which opens a transaction per event.`,
      );
    }
    // Prepared statements, unless the app turned them off (PgBouncer in transaction mode): unprepared,
    // postgres.js sends a Parse/Describe round trip before every statement (113 µs vs 50 µs measured).
    const prepare = pool.options?.prepare !== false;
    const run = (sql: PostgresJsRunner) => async (text: string, params: unknown[]) => {
      const result = await sql.unsafe(text, params, { prepare });
      // count is null for a statement without a row count (DDL).
      return { rows: result, count: result.count ?? 0 };
    };
    const sql = client as unknown as PostgresJsPool;
    return {
      query: run(sql),
      transaction: (work) => Promise.resolve(sql.begin((tx) => work({ query: run(tx) }, tx))),
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
