export type { DeadLetter, DeadLetters } from "./dead-letters";
export { toEventId, toJobId } from "./job-id";
export { DEFAULT_QUEUE_NAME } from "./options";
export {
  type BullmqEventQueue,
  type BullmqQueueOptions,
  bullmqQueue,
  DEFAULT_ENQUEUE_TIMEOUT_MS,
  DEFAULT_FAILED_RETENTION_MS,
  DEFAULT_QUEUE_RETENTION_MS,
  type EventJobData,
  type EventJobQueue,
} from "./queue";
export {
  type CreateWorkerOptions,
  createWorker,
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_MS,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_STALLED_INTERVAL_MS,
  type WebhookWorker,
} from "./worker";
