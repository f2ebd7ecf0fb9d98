import { EVENT_TYPES } from "@optare/webhooks";
import { ROWS } from "../rows";
import { type BrokenReceiver, correctSteps } from "./hand-written";

/** A `switch` whose default throws: every event type Optare adds later fails five times, then is dropped. */
export const failsUnknownEvents: BrokenReceiver = {
  name: "fails-unknown-events",
  mistake: "throws on event types it does not know, so they get a 500 instead of a 200",
  blackBox: [ROWS.unknownType],
  cooperative: [ROWS.unknownType],
  steps: {
    async handle(event, t) {
      if (!(EVENT_TYPES as readonly string[]).includes(event.event)) {
        throw new Error(`Unhandled event type ${event.event}`); // BUG
      }
      await correctSteps.handle(event, t);
    },
  },
};
