import { ROWS } from "../rows";
import type { BrokenReceiver } from "./hand-written";

/** Deduplicates on the id alone: another body under a known id is taken for a duplicate. */
export const dedupesOnIdOnly: BrokenReceiver = {
  name: "dedupes-on-id-only",
  mistake:
    "remembers event ids but not the body they came with, so a different body under a known id gets 200",
  blackBox: [ROWS.conflict],
  cooperative: [ROWS.conflict],
  steps: {
    claim(store, id, hash) {
      const record = store.get(id);
      if (record === undefined) {
        store.set(id, "processing", hash);
        return "claimed";
      }
      return record.state === "completed" ? "duplicate" : "in_progress"; // BUG: the body hash is never compared
    },
  },
};
