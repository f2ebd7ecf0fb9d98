import { ROWS } from "../rows";
import { type BrokenReceiver, hmac } from "./hand-written";

/** Verification left in "log only" mode: a mismatch is noted, and the event processed anyway. */
export const acceptsBadSignatures: BrokenReceiver = {
  name: "accepts-bad-signatures",
  mistake: "computes the signature but only logs a mismatch, then processes the event anyway",
  blackBox: [ROWS.signature],
  cooperative: [ROWS.signature],
  steps: {
    verify(raw, signature, secret) {
      const valid = signature === hmac(secret, raw);
      if (!valid) {
        // BUG: "monitoring mode" — the request goes through whatever the signature says.
      }
      return true;
    },
  },
};
