import { ROWS } from "../rows";
import { type BrokenReceiver, sha256 } from "./hand-written";

/** "Return quickly, process asynchronously" taken literally: 200 first, handlers after. */
export const acknowledgesBeforeHandlersFinish: BrokenReceiver = {
  name: "acknowledges-before-handlers-finish",
  mistake: "answers 200 as soon as the event is claimed and runs validation and handlers afterwards",
  // Black box: invalid data is only found after the 200. Cooperative: a throw or a long run after the 200.
  blackBox: [ROWS.invalidData],
  cooperative: [ROWS.invalidData, ROWS.handlerThrows, ROWS.ackDeadline],
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
      // BUG: the 200 goes out before anything ran; a failure below can no longer reach the sender.
      setImmediate(async () => {
        try {
          if (!t.steps.isValid(event)) throw new Error(`invalid ${event.event} payload`);
          await t.steps.handle(event, t);
          t.store.complete(event.id);
        } catch {
          t.store.release(event.id);
        }
      });
      return t.ok();
    },
  },
};
