import { timingSafeEqual } from "node:crypto";
import { ROWS } from "../rows";
import { type BrokenReceiver, hmac } from "./hand-written";

/** The comparison from Optare's documentation: timingSafeEqual throws on a length mismatch (a 500). */
export const comparesSignaturesUnsafely: BrokenReceiver = {
  name: "compares-signatures-unsafely",
  mistake:
    "compares with timingSafeEqual(Buffer.from(signature), Buffer.from(digest)), which throws on another length",
  blackBox: [ROWS.signature],
  cooperative: [ROWS.signature],
  steps: {
    verify(raw, signature, secret) {
      if (!signature) return false;
      // BUG: throws RangeError when the lengths differ, so a short or long signature gets a 500, not a 401.
      return timingSafeEqual(Buffer.from(signature), Buffer.from(hmac(secret, raw)));
    },
  },
};
