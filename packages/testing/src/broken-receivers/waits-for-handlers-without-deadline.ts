import { ROWS } from "../rows";
import { type BrokenReceiver, sha256 } from "./hand-written";

/** Waits for the handlers however long they take: past 30 s the sender gives up and retries a running event. */
export const waitsForHandlersWithoutDeadline: BrokenReceiver = {
  name: "waits-for-handlers-without-deadline",
  mistake: "has no acknowledgement deadline: a slow handler holds the answer past the sender's 30 s timeout",
  blackBox: [],
  cooperative: [ROWS.ackDeadline],
  steps: {
    async deliver(event, raw, t) {
      if (!t.steps.isValid(event)) return t.error(422, "invalid_event_data", "Invalid data.");
      switch (t.steps.claim(t.store, event.id, sha256(raw))) {
        case "duplicate":
          return t.ok({ received: true, duplicate: true });
        case "in_progress":
          return t.error(409, "event_in_progress", "Retry later.", { "retry-after": "30" });
        case "conflict":
          return t.error(422, "event_conflict", "Another body under this id.");
      }
      try {
        await t.steps.handle(event, t); // BUG: no deadline on this wait
      } catch {
        t.store.release(event.id);
        return t.error(500, "handler_failed", "A handler failed.");
      }
      t.store.complete(event.id);
      return t.ok();
    },
  },
};
