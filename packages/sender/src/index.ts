export type { Lookup, LookupAddress } from "./address-guard";
export { type Clock, createVirtualClock, systemClock, type TimerHandle, type VirtualClock } from "./clock";
export type { ExhaustedDelivery } from "./delivery";
export { SenderError, type SenderErrorCode } from "./errors";
export {
  migrate,
  type PgQueryable,
  type PostgresJsSql,
  type PostgresSenderStoreOptions,
  postgresSenderStore,
  type SenderPostgresClient,
} from "./postgres-store";
export type { CreateWebhookOptions } from "./registry";
export { MAX_ATTEMPTS, RETRY_DELAYS } from "./schedule";
export {
  createSender,
  DEFAULT_CONCURRENCY,
  DEFAULT_RESPONSE_BODY_LIMIT,
  DEFAULT_TIMEOUT_MS,
  type EmitResult,
  type Sender,
  type SenderConfig,
  type SenderOptions,
} from "./sender";
export {
  type AttemptClaim,
  type AttemptDetails,
  type DeliveryErrorCode,
  type DeliveryRecord,
  type MemorySenderStoreOptions,
  memorySenderStore,
  type PendingAttempt,
  type SenderStore,
  type Webhook,
} from "./store";
export { AttemptTimeout, type HttpAnswer, type Transport, type TransportRequest } from "./transport";
export { checkEndpointUrl } from "./url";
