import { ROWS } from "../rows";
import type { BrokenReceiver } from "./hand-written";

/** No timestamp check at all: a captured request can be replayed any time. */
export const ignoresEventAge: BrokenReceiver = {
  name: "ignores-event-age",
  mistake: "never looks at the event timestamp, so stale and future-dated events are processed",
  blackBox: [ROWS.eventAge],
  cooperative: [ROWS.eventAge],
  steps: {
    isFresh: () => true, // BUG
  },
};
