export {
  type ConformanceCheck,
  type ConformanceOptions,
  type ConformanceReport,
  runConformance,
  UNKNOWN_EVENT_TYPE,
} from "./conformance";
export { type CreateEventOptions, createEvent, fixtures } from "./fixtures";
export { type SignedDelivery, signEvent, signedRequest } from "./signing";
