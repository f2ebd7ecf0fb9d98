import {
  type ClaimDetails,
  type ClaimResult,
  createToken,
  DEFAULT_LEASE_MS,
  DEFAULT_RETENTION_MS,
  type EventError,
  eventErrorOf,
  type HandlerContext,
  type IdempotencyStore,
  type ProcessOutcome,
  parseStoredEvent,
  processEvent,
  type Router,
  storeError,
  type TransactionalStore,
  WebhookError,
} from "@optare/webhooks";
import { createDb, type Db, type PostgresClient, type Row, type TransactionOf } from "./client";
import { DEFAULT_TABLE, quoteTable, type Statements, statements } from "./sql";

export interface PostgresStoreOptions<
  C extends PostgresClient = PostgresClient,
  T extends boolean = boolean,
> {
  /** A node-postgres `Pool` (`new Pool(…)`) or a postgres.js `sql` (`postgres(url)`). Never closed by the store. */
  client: C;
  /**
   * Run the claim, the handlers and the completion in one transaction, given to handlers as
   * `context.transaction`: their writes through it happen exactly once. Needs a pg `Pool` or a
   * postgres.js `sql`. Default false.
   */
  transactional?: T;
  /** The table `migrate()` created (default `optare_webhook_events`; `schema.name` works). */
  table?: string;
  /** Keep each event's raw body, so it can be replayed (default true). */
  keepPayload?: boolean;
  /** Lease of a processing record, in ms (default 30 s). */
  leaseMs?: number;
  /** How long completed events are kept (and recognised as duplicates), in ms (default 24 h). */
  retentionMs?: number;
  /** How long failed events are kept after their last failure, in ms (default 30 days). */
  failedRetentionMs?: number;
}

/** One event of the log. */
export interface EventRecord {
  id: string;
  type: string;
  status: "processing" | "completed" | "failed";
  /**
   * How many deliveries of it arrived, duplicates included — except, in transactional mode, those
   * answered 409 while its transaction was open (counting them would mean waiting on its row lock).
   */
  deliveries: number;
  /** The event's own timestamp. */
  eventTime: Date | null;
  firstReceivedAt: Date;
  lastReceivedAt: Date;
  completedAt: Date | null;
  failedAt: Date | null;
  /** Why its handlers last failed; kept after a later success, as the event's history. */
  lastError: EventError | null;
  bodyHash: string;
  /** The raw body as received (null with `keepPayload: false`). */
  body: string | null;
}

export interface ListOptions {
  status?: EventRecord["status"];
  type?: string;
  /** At most this many (default 50, at most 1000). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface EventPage {
  events: EventRecord[];
  /** Pass as `cursor` for the next page; absent on the last one. */
  nextCursor?: string;
}

/** What `postgresStore()` returns: an idempotency store that is also the log of every event. */
export interface PostgresStore extends IdempotencyStore {
  /** Events newest first (by first arrival), filtered by status and type, a page at a time. */
  list(options?: ListOptions): Promise<EventPage>;
  /** One event, or undefined. */
  get(id: string): Promise<EventRecord | undefined>;
  /**
   * Runs a stored event's handlers again through `webhooks` (your `createWebhooks()` receiver, or a
   * router), under the same claim rules as a delivery: a completed event is a `duplicate` and runs
   * nothing unless `force`; one in flight is `in_progress`. Rejects with `handler_failed` when they throw
   * again (the event stays `failed`, with the new error).
   */
  replay<C extends HandlerContext>(
    id: string,
    webhooks: Pick<Router<C>, "dispatch">,
    options?: { force?: boolean },
  ): Promise<ProcessOutcome>;
  /**
   * Deletes completed events past `retentionMs` and failed ones older than `failedRetentionMs`, in
   * batches of `batchSize` (default 1000) until none is left or `maxBatches` ran. Resolves with the
   * number deleted. Schedule it (a cron job, `setInterval`): nothing prunes by itself.
   */
  prune(options?: { batchSize?: number; maxBatches?: number }): Promise<number>;
  /** Resolves when the table is there; otherwise rejects with `invalid_configuration` saying to run `migrate`. */
  check(): Promise<void>;
}

export type TransactionalPostgresStore<Tx> = PostgresStore & TransactionalStore<Tx>;

function positive(name: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result <= 0) {
    throw new WebhookError(
      "invalid_configuration",
      `postgresStore: ${name} must be a positive integer of ms.`,
    );
  }
  return result;
}

const decoder = new TextDecoder();
const text = (body: Uint8Array | string) => (typeof body === "string" ? body : decoder.decode(body));

/** A missing table gets an error that says what to do; anything else is the store being unavailable. */
function storeFailure(table: string) {
  return (error: unknown): never => {
    if ((error as { code?: unknown } | null)?.code === "42P01") {
      throw new WebhookError(
        "invalid_configuration",
        `postgresStore: the table ${table} does not exist. Run \`await migrate(client)\` from @optare/webhooks-postgres once (or apply its schema.sql / drizzle table) before receiving.`,
        { cause: error },
      );
    }
    throw storeError(error);
  };
}

function toRecord(row: Row): EventRecord {
  return {
    id: row.id as string,
    type: row.type as string,
    status: row.status as EventRecord["status"],
    deliveries: Number(row.deliveries),
    eventTime: (row.event_time as Date | null) ?? null,
    firstReceivedAt: row.first_received_at as Date,
    lastReceivedAt: row.last_received_at as Date,
    completedAt: (row.completed_at as Date | null) ?? null,
    failedAt: (row.failed_at as Date | null) ?? null,
    lastError:
      row.last_error_code == null
        ? null
        : { code: row.last_error_code as string, message: (row.last_error_message as string | null) ?? "" },
    bodyHash: row.body_hash as string,
    body: (row.body as string | null) ?? null,
  };
}

function encodeCursor(record: EventRecord): string {
  return Buffer.from(JSON.stringify([record.firstReceivedAt.toISOString(), record.id])).toString("base64url");
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown[];
    if (typeof at === "string" && typeof id === "string" && !Number.isNaN(Date.parse(at))) return [at, id];
  } catch {}
  throw new WebhookError(
    "invalid_configuration",
    "postgresStore.list: cursor is not one that list() returned.",
  );
}

/**
 * An `IdempotencyStore` on PostgreSQL (SPEC §8.2) that is also a log of every verified event: one row
 * per event with its status, deliveries, times, last error and raw body. One SQL statement per store
 * operation, expiry on the database's clock. With `transactional: true` it runs each event's claim,
 * handlers and completion in one transaction (`context.transaction`), so their writes happen exactly
 * once. Run `migrate(client)` once first.
 */
export function postgresStore<C extends PostgresClient>(
  options: PostgresStoreOptions<C, true> & { transactional: true },
): TransactionalPostgresStore<TransactionOf<C>>;
export function postgresStore<C extends PostgresClient>(
  options: PostgresStoreOptions<C, false>,
): PostgresStore;
export function postgresStore(options: PostgresStoreOptions): PostgresStore {
  if (typeof options !== "object" || options === null) {
    throw new WebhookError("invalid_configuration", "postgresStore: pass { client, … }.");
  }
  const transactional = options.transactional === true;
  const db: Db = createDb(options.client, transactional);
  const table = options.table ?? DEFAULT_TABLE;
  quoteTable(table);
  const sql: Statements = statements(table);
  const fail = storeFailure(table);
  const leaseMs = positive("leaseMs", options.leaseMs, DEFAULT_LEASE_MS);
  const retentionMs = positive("retentionMs", options.retentionMs, DEFAULT_RETENTION_MS);
  const failedRetentionMs = positive(
    "failedRetentionMs",
    options.failedRetentionMs,
    30 * 24 * 60 * 60 * 1000,
  );
  const keepPayload = options.keepPayload ?? true;

  const claimParams = (eventId: string, bodyHash: string, token: string, details?: ClaimDetails) => [
    eventId,
    details?.eventType ?? "unknown",
    token,
    bodyHash,
    keepPayload && details ? text(details.body) : null,
    leaseMs,
    details?.eventTime ?? null,
  ];

  const guarded = async (statement: string, params: unknown[]) =>
    (await db.query(statement, params).catch(fail)).count === 1;

  const store: PostgresStore = {
    leaseMs,
    retentionMs,

    async claim(eventId, bodyHash, details): Promise<ClaimResult> {
      const token = createToken();
      const { rows } = await db.query(sql.claim, claimParams(eventId, bodyHash, token, details)).catch(fail);
      const row = rows[0]!;
      if (row.won) return { status: "claimed", token };
      if (row.status === "completed") return { status: "completed", sameBody: row.same_body === true };
      return { status: "processing", sameBody: row.same_body === true, retryAfterMs: Number(row.left_ms) };
    },
    complete: (eventId, token) => guarded(sql.complete, [eventId, token, retentionMs]),
    release: (eventId, token, error) =>
      guarded(sql.release, [eventId, token, error?.code ?? "released", error?.message ?? null]),
    extend: (eventId, token, extendMs) =>
      guarded(sql.extend, [eventId, token, positive("leaseMs", extendMs, leaseMs)]),

    async list({ status, type, limit = 50, cursor } = {}) {
      const size = Math.min(Math.max(1, Math.trunc(limit)), 1000);
      const [at, id] = cursor === undefined ? [null, null] : decodeCursor(cursor);
      const { rows } = await db.query(sql.list, [status ?? null, type ?? null, at, id, size + 1]).catch(fail);
      const events = rows.slice(0, size).map(toRecord);
      return rows.length > size ? { events, nextCursor: encodeCursor(events.at(-1)!) } : { events };
    },

    async get(id) {
      const { rows } = await db.query(sql.get, [id]).catch(fail);
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },

    async replay(id, webhooks, { force = false } = {}) {
      const record = await store.get(id);
      if (record === undefined)
        throw new WebhookError("invalid_configuration", `postgresStore.replay: no event ${id}.`);
      if (record.body === null) {
        throw new WebhookError(
          "invalid_configuration",
          `postgresStore.replay: event ${id} was stored without its body (keepPayload: false).`,
        );
      }
      if (force && record.status === "completed") await db.query(sql.reopen, [id]).catch(fail);
      const event = parseStoredEvent(record.body);
      return processEvent(webhooks, event, record.body, {} as never, { store: self });
    },

    async prune({ batchSize = 1000, maxBatches = Number.POSITIVE_INFINITY } = {}) {
      let deleted = 0;
      for (let batch = 0; batch < maxBatches; batch++) {
        const { count } = await db.query(sql.prune, [failedRetentionMs, batchSize]).catch(fail);
        deleted += count;
        if (count < batchSize) break;
      }
      return deleted;
    },

    async check() {
      await db.query(sql.check, []).catch(fail);
    },
  };
  /** What replays run under: this store, or its transactional self. */
  let self: PostgresStore = store;
  if (!transactional) return store;

  const transactionalStore: TransactionalPostgresStore<unknown> = {
    ...store,
    transactional: true,
    async runInTransaction(eventId, bodyHash, details, work) {
      const token = createToken();
      let handlerError: WebhookError | undefined;
      /** Why the completion failed when the handlers left the transaction unusable, or undefined. */
      let spoiled: "aborted" | "rolled back" | undefined;
      try {
        return await db.transaction(async (tx, handle) => {
          const { rows } = await tx.query(
            sql.claimInTransaction,
            claimParams(eventId, bodyHash, token, details),
          );
          const row = rows[0]!;
          if (!row.got) {
            // In flight in another transaction: 409 at once. A committed record with another body is 422.
            return {
              status: "processing",
              sameBody: row.committed_same_body !== false,
              retryAfterMs: leaseMs,
            };
          }
          if (!row.won) {
            if (row.status === "completed") return { status: "completed", sameBody: row.same_body === true };
            return {
              status: "processing",
              sameBody: row.same_body === true,
              retryAfterMs: Number(row.left_ms),
            };
          }
          try {
            await work(handle);
          } catch (error) {
            handlerError = WebhookError.is(error)
              ? error
              : new WebhookError("handler_failed", String(error), { cause: error });
            throw handlerError;
          }
          const completed = await tx
            .query(sql.completeInTransaction, [eventId, token, retentionMs])
            .catch((error: unknown) => {
              const code = (error as { code?: unknown } | null)?.code;
              if (code === "25P02") spoiled = "aborted";
              // postgres.js 4: a handler called sql.rollback() and returned.
              else if (code === "TRANSACTION_ROLLED_BACK") spoiled = "rolled back";
              throw error;
            });
          if (completed.count !== 1)
            throw new Error(`the claim of ${eventId} vanished inside its transaction`);
          return { status: "processed" } as const;
        });
      } catch (error) {
        if (
          handlerError === undefined &&
          (spoiled !== undefined || (error as { code?: unknown } | null)?.code === "25P02")
        ) {
          // A handler caught a failed statement and went on: PostgreSQL aborted the transaction, so the
          // completion (or COMMIT) failed. (postgres.js rejects sql.begin with the statement's own
          // error then, not 25P02: hence `spoiled`.) Or a handler rolled the transaction back itself.
          // The handlers' fault, not the store's.
          const explanation =
            spoiled === "rolled back"
              ? "A handler rolled the transaction back (sql.rollback()) and returned. Throw instead, so " +
                "the event is released for the retry."
              : "A statement in a handler failed and aborted the transaction, but the handler went on (it " +
                "caught the error). Rethrow it, or run the statement in a SAVEPOINT.";
          handlerError = new WebhookError("handler_failed", explanation, {
            cause: new Error(explanation, { cause: error }),
          });
        }
        if (handlerError === undefined) return fail(error);
        // Rolled back with the handlers' writes: keep the failure in the log, outside the transaction.
        const { code, message } = eventErrorOf(handlerError);
        await db
          .query(sql.recordFailure, [
            eventId,
            details.eventType,
            bodyHash,
            keepPayload ? text(details.body) : null,
            details.eventTime,
            code,
            message,
          ])
          .catch(() => {}); // The log is best effort here: the answer (500) and the retry matter more.
        throw handlerError;
      }
    },
  };
  self = transactionalStore;
  return transactionalStore;
}
