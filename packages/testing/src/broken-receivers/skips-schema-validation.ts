import { ROWS } from "../rows";
import type { BrokenReceiver } from "./hand-written";

/** Trusts `data` to match its event type: handlers then read fields that are not there. */
export const skipsSchemaValidation: BrokenReceiver = {
  name: "skips-schema-validation",
  mistake: "never validates event data, so a known event with invalid data is processed",
  blackBox: [ROWS.invalidData],
  cooperative: [ROWS.invalidData],
  steps: {
    isValid: () => true, // BUG
  },
};
