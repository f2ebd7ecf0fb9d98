import { ROWS } from "../rows";
import { type BrokenReceiver, correctSteps } from "./hand-written";

/** Verifies JSON.stringify(JSON.parse(body)) instead of the bytes that were signed (octokit#589). */
export const reserialisesBeforeVerifying: BrokenReceiver = {
  name: "reserialises-before-verifying",
  mistake:
    "verifies the signature over the re-serialised JSON (what express.json() leaves), not the raw bytes",
  blackBox: [ROWS.signature, ROWS.malformed],
  cooperative: [ROWS.signature, ROWS.malformed],
  steps: {
    verify(raw, signature, secret) {
      let reserialised: string;
      try {
        // BUG: same JSON, other bytes: another layout fails, and a re-laid-out copy of a signed body passes.
        reserialised = JSON.stringify(JSON.parse(raw.toString("utf8")));
      } catch {
        return false;
      }
      return correctSteps.verify(Buffer.from(reserialised), signature, secret);
    },
  },
};
