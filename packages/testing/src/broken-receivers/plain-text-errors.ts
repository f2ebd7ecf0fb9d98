import { ROWS } from "../rows";
import type { BrokenReceiver } from "./hand-written";

/** Answers errors in plain text (`res.status(401).send("Invalid signature")`): no stable code to act on. */
export const plainTextErrors: BrokenReceiver = {
  name: "plain-text-errors",
  mistake: 'answers errors as plain text instead of {"error":{"code","message"}}',
  blackBox: [ROWS.errorBody],
  cooperative: [ROWS.errorBody],
  steps: {
    error: (status, _code, message, headers) => ({
      status,
      headers: { ...headers, "content-type": "text/plain" },
      body: message,
    }), // BUG
  },
};
