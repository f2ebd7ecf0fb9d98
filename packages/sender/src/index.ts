export { type Clock, createVirtualClock, systemClock, type TimerHandle, type VirtualClock } from "./clock";
export { SenderError, type SenderErrorCode } from "./errors";
export {
  type CreateWebhookOptions,
  createSender,
  DEFAULT_CONCURRENCY,
  DEFAULT_RESPONSE_BODY_LIMIT,
  DEFAULT_TIMEOUT_MS,
  type EmitData,
  type EmitOptions,
  type EmitResult,
  type EventEnvelope,
  type ExhaustedDelivery,
  MAX_ATTEMPTS,
  type OrganizationRef,
  RETRY_DELAYS,
  type Sender,
  type SenderConfig,
  type SenderOptions,
} from "./sender";
export {
  type DeliveryErrorCode,
  type DeliveryRecord,
  type MemorySenderStoreOptions,
  memorySenderStore,
  type SenderStore,
  type Webhook,
} from "./store";
export { checkEndpointUrl } from "./url";
