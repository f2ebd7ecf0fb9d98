import { ROWS } from "../rows";
import { type BrokenReceiver, correctSteps } from "./hand-written";

/** Checks the body limit on Content-Length only: a chunked body of any size is read into memory. */
export const trustsContentLength: BrokenReceiver = {
  name: "trusts-content-length",
  mistake: "enforces the body limit on the Content-Length header only, not while reading",
  blackBox: [ROWS.bodyLimit],
  cooperative: [ROWS.bodyLimit],
  steps: {
    readBody(req, limit) {
      if (Number(req.headers["content-length"]) > limit) return correctSteps.readBody(req, limit);
      return correctSteps.readBody(req, Number.POSITIVE_INFINITY); // BUG: no limit without the header
    },
  },
};
