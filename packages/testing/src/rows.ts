// The rows of the receiver decision table (SPEC §3) the conformance kit enforces. Every check names
// one, and a failing check's report line shows it, so a failure reads as the rule that was broken.

export const ROWS = Object.freeze({
  method: "not POST → 405 + Allow: POST",
  bodyLimit: "body over the limit → 413",
  signature: "signature missing, malformed or not matching the raw body → 401",
  eventAge: "event timestamp older than maxEventAge or > 5 min in the future → 401",
  malformed: "body not JSON / not an envelope → 400",
  invalidData: "known event whose data fails its schema → 422",
  unknownType: "unknown event type → 200",
  firstDelivery: "first delivery, handlers succeed → 200",
  handlerThrows: "handler throws → 500; the claim is released so the retry runs again",
  duplicate: "duplicate of a completed event → 200, handler not run",
  inFlight: "duplicate while the first is still processing → 409 + Retry-After (never 2xx)",
  conflict: "same id, different body → 422, handler not run",
  ackDeadline: "handlers still running at the ack deadline → 503 + Retry-After; the retry sees the outcome",
  errorBody: 'error bodies are {"error":{"code","message"}} and never echo the secret, signature or payload',
});

/** One row of the decision table, as a check names it. */
export type Row = (typeof ROWS)[keyof typeof ROWS];
