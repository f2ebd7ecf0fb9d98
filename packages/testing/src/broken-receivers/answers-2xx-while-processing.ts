import { ROWS } from "../rows";
import type { BrokenReceiver } from "./hand-written";

/** Takes a duplicate of an event still being processed for a completed one, and acknowledges it. */
export const answers2xxWhileProcessing: BrokenReceiver = {
  name: "answers-2xx-while-processing",
  mistake:
    "answers 200 to a duplicate whose first delivery is still running (if the first then fails, the event is lost)",
  blackBox: [],
  cooperative: [ROWS.inFlight],
  steps: {
    claim(store, id, hash) {
      const record = store.get(id);
      if (record === undefined) {
        store.set(id, "processing", hash);
        return "claimed";
      }
      return record.hash !== hash ? "conflict" : "duplicate"; // BUG: "processing" is not "completed"
    },
  },
};
