export type { BodySource } from "./body";
export {
  ApiKey,
  type Catalog,
  catalog,
  dataSchemas,
  EVENT_TYPES,
  type EventData,
  type EventDefinition,
  type EventGroup,
  type EventType,
  Invitation,
  isEventType,
  Member,
  OAuthAuthorization,
  OAuthClient,
  OAuthToken,
  Organization,
  Session,
  User,
  UserRef,
} from "./catalog";
export { asWebhookError, ERROR_STATUS, isWebhookError, WebhookError, type WebhookErrorCode } from "./errors";
export {
  constructEvent,
  DEFAULT_MAX_EVENT_AGE,
  DEFAULT_MAX_FUTURE_SKEW,
  type Envelope,
  type EventDataIssue,
  envelopeSchema,
  eventDataIssues,
  isKnownEvent,
  type OptareEvent,
  type ParseOptions,
  parseStoredEvent,
  type UnknownEvent,
  type WebhookEvent,
} from "./event";
export { consoleLogger, type FailureFields, type Logger } from "./log";
export { type MemoryStoreOptions, memoryStore } from "./memory-store";
export { eventErrorOf, type ProcessOptions, type ProcessOutcome, processEvent, storeError } from "./process";
export {
  type ContextOf,
  createWebhooks,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  type ErrorContext,
  type HandleContext,
  type Handler,
  type HandlerContext,
  type LogEntry,
  type SecretOption,
  type Telemetry,
  type TelemetrySpan,
  type WebhookReply,
  type WebhookRequest,
  type Webhooks,
  type WebhooksOptions,
} from "./receiver";
export { createRouter, type ErrorHandler, type Registrations, type Router } from "./router";
export {
  type ClaimDetails,
  type ClaimResult,
  createToken,
  DEFAULT_LEASE_MS,
  DEFAULT_RETENTION_MS,
  type EventError,
  type EventQueue,
  type IdempotencyStore,
  isTransactionalStore,
  OPTARE_RETRY_SPAN_MS,
  type TransactionalStore,
} from "./store";
export { type Exact, type Loose, withExtras } from "./types";
export {
  type Payload,
  type Secrets,
  SIGNATURE_HEADER,
  sign,
  verifySignature,
  verifySignatureAsync,
} from "./verify";
