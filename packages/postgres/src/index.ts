export type {
  PgPool,
  PgPoolClient,
  PgQueryable,
  PostgresClient,
  PostgresJsSql,
  TransactionOf,
} from "./client";
export { migrate } from "./migrate";
export { DEFAULT_TABLE, schemaSql } from "./sql";
export {
  type EventPage,
  type EventRecord,
  type ListOptions,
  type PostgresStore,
  type PostgresStoreOptions,
  postgresStore,
  type TransactionalPostgresStore,
} from "./store";
