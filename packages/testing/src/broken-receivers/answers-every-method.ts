import { ROWS } from "../rows";
import type { BrokenReceiver } from "./hand-written";

/** Mounted with `app.all()` and no method check: a GET is "verified" and refused as unsigned. */
export const answersEveryMethod: BrokenReceiver = {
  name: "answers-every-method",
  mistake: "never checks the method: GET gets 401, and a validly signed PUT is processed",
  blackBox: [ROWS.method],
  cooperative: [ROWS.method],
  steps: {
    acceptsMethod: () => true, // BUG
  },
};
