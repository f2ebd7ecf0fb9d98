import { ROWS } from "../rows";
import { type BrokenReceiver, correctSteps } from "./hand-written";

/** `JSON.parse(body)` unguarded, as in Optare's sample: malformed JSON becomes a 500, which the sender retries. */
export const crashesOnMalformedJson: BrokenReceiver = {
  name: "crashes-on-malformed-json",
  mistake: "parses the body with an unguarded JSON.parse, so malformed JSON is a 500 instead of a 400",
  blackBox: [ROWS.malformed],
  cooperative: [ROWS.malformed],
  steps: {
    parse(raw) {
      JSON.parse(raw.toString("utf8")); // BUG: throws on malformed JSON
      return correctSteps.parse(raw);
    },
  },
};
