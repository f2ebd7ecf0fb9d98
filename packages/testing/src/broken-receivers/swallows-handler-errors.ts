import { ROWS } from "../rows";
import { type BrokenReceiver, settle, sha256 } from "./hand-written";

/**
 * Catches whatever the handlers throw, logs it and acknowledges: the sender never retries, the event is
 * lost. Its handlers validate the data themselves, so a payload that fails its schema is swallowed too.
 */
export const swallowsHandlerErrors: BrokenReceiver = {
  name: "swallows-handler-errors",
  mistake:
    "wraps the handlers in try/catch, logs the error and answers 200 (and records the event as processed)",
  // Black box: invalid data is a handler error here, swallowed into a 200 instead of a 422.
  blackBox: [ROWS.invalidData],
  cooperative: [ROWS.invalidData, ROWS.handlerThrows],
  steps: {
    async deliver(event, raw, t) {
      switch (t.steps.claim(t.store, event.id, sha256(raw))) {
        case "duplicate":
          return t.ok({ received: true, duplicate: true });
        case "in_progress":
          return t.error(409, "event_in_progress", "Retry later.", { "retry-after": "30" });
        case "conflict":
          return t.error(422, "event_conflict", "Another body under this id.");
      }
      const work = (async () => {
        try {
          if (!t.steps.isValid(event)) throw new Error(`invalid ${event.event} payload`);
          await t.steps.handle(event, t);
        } catch {
          // BUG: "don't make Optare retry": the failure is logged somewhere and acknowledged.
        }
        t.store.complete(event.id);
      })();
      if ((await settle(work, t.ackTimeoutMs)) === "timeout") {
        return t.error(503, "handler_timeout", "Still processing.", { "retry-after": "30" });
      }
      return t.ok();
    },
  },
};
