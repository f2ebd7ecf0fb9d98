import { ROWS } from "../rows";
import { type BrokenReceiver, correctSteps } from "./hand-written";

/** Puts the request body into its error messages "for debugging": the payload leaks into logs and proxies. */
export const echoesPayloadInErrors: BrokenReceiver = {
  name: "echoes-payload-in-errors",
  mistake: "includes the received body in its error messages",
  blackBox: [ROWS.errorBody],
  cooperative: [ROWS.errorBody],
  steps: {
    error(status, code, message, headers, raw) {
      const echo = raw === undefined ? message : `${message} Received: ${raw.toString("utf8").slice(0, 500)}`; // BUG
      return correctSteps.error(status, code, echo, headers, raw);
    },
  },
};
