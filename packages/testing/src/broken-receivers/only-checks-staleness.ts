import { DEFAULT_MAX_EVENT_AGE } from "@optare/webhooks";
import { ROWS } from "../rows";
import type { BrokenReceiver } from "./hand-written";

/** Refuses old events but not ones dated in the future, which outlive the dedup window when replayed. */
export const onlyChecksStaleness: BrokenReceiver = {
  name: "only-checks-staleness",
  mistake: "rejects events older than 24 h but accepts any timestamp in the future",
  blackBox: [ROWS.eventAge],
  cooperative: [ROWS.eventAge],
  steps: {
    isFresh: (timestamp, now) => now - Date.parse(timestamp) <= DEFAULT_MAX_EVENT_AGE, // BUG: no upper bound
  },
};
