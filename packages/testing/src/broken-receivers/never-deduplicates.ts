import { ROWS } from "../rows";
import type { BrokenReceiver } from "./hand-written";

/** Runs the handlers for every delivery: duplicates are processed again, and another body under a known id too. */
export const neverDeduplicates: BrokenReceiver = {
  name: "never-deduplicates",
  mistake: "keeps no record of event ids, so every delivery runs the handlers",
  // Black box: "same id, another body" is answered 200, not 422. Cooperative: the duplicate ran twice.
  blackBox: [ROWS.conflict],
  cooperative: [ROWS.conflict, ROWS.duplicate, ROWS.inFlight, ROWS.ackDeadline],
  steps: {
    claim: () => "claimed", // BUG
  },
};
