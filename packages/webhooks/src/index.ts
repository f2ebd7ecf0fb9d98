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
export { ERROR_STATUS, isWebhookError, WebhookError, type WebhookErrorCode } from "./errors";
export {
  constructEvent,
  DEFAULT_MAX_EVENT_AGE,
  DEFAULT_MAX_FUTURE_SKEW,
  type Envelope,
  envelopeSchema,
  isKnownEvent,
  type OptareEvent,
  type ParseOptions,
  type UnknownEvent,
  type WebhookEvent,
} from "./event";
export {
  createWebhooks,
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  type ErrorContext,
  errorResponse,
  type HandleContext,
  type Handler,
  type HandlerContext,
  type LogEntry,
  type WebhookReply,
  type WebhookRequest,
  type Webhooks,
  type WebhooksOptions,
} from "./handler";
export { type MemoryStoreOptions, memoryStore } from "./memory-store";
export {
  type ClaimResult,
  createToken,
  DEFAULT_LEASE_MS,
  DEFAULT_RETENTION_MS,
  type IdempotencyStore,
} from "./store";
export {
  type Payload,
  type Secrets,
  SIGNATURE_HEADER,
  sign,
  verifySignature,
  verifySignatureAsync,
} from "./verify";
