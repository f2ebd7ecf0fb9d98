export {
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceReport,
  type ConformanceStop,
  DEFAULT_CONFORMANCE_TIMEOUT_MS,
  runConformance,
  UNKNOWN_EVENT_TYPE,
} from "./conformance";
export {
  type CooperativeController,
  type CooperativeControllerOptions,
  cooperate,
  createCooperativeController,
  type OnAny,
} from "./cooperative";
export { DOCS_INVITATION_ACCEPTED, DOCS_USER_CREATED } from "./docs-samples";
export { type CreateEventOptions, createEvent, fixtures } from "./fixtures";
export { formatConformanceReport } from "./report";
export { ROWS, type Row } from "./rows";
export { type SignedDelivery, signEvent, signedRequest } from "./signing";
