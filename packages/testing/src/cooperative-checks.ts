// The cooperative checks (SPEC §10): rows of §3 that only show when the receiver's handler throws or
// waits on cue. The kit plans that through the in-process controller (cooperative.ts), for event ids it
// generates, then talks HTTP to the receiver as usual and counts the handler's runs.

import { type Answer, describeAnswer } from "./conformance-http";
import {
  type CheckSpec,
  type Crafted,
  expectAnswer,
  type Kit,
  type Outcome,
  RETRY_AFTER,
  verdict,
} from "./conformance-kit";
import type { CooperativeState, HandlerRuns } from "./cooperative-state";
import { ROWS, type Row } from "./rows";

/** How long the kit waits for a handler run it expects to see start or end. */
const GRACE_MS = 2_000;

const NOT_WIRED =
  "The cooperative controller saw no handler run for the events the receiver accepted. Cooperative mode " +
  "needs the receiver to run in this process, with the controller's hook in its handlers: " +
  "`const cooperative = cooperate(webhooks)` on the very instance that serves the URL.";

function runsText(runs: HandlerRuns): string {
  return `handler runs: ${runs.started} started, ${runs.finished} finished, ${runs.failed} failed`;
}

/** A cooperative check; it fails at once, without sending anything, when the controller is not wired. */
function cooperative(
  name: string,
  row: Row,
  expected: string,
  run: (kit: Kit, state: CooperativeState) => Promise<Outcome>,
): CheckSpec {
  return {
    name,
    row,
    expected,
    async run(kit) {
      const state = kit.cooperation!;
      if (kit.shared.wired === false) return verdict(false, "not wired", NOT_WIRED);
      return run(kit, state);
    },
  };
}

/** Sends `crafted`: the same bytes each time, as Optare's retries are. */
function resend(kit: Kit, crafted: Crafted, timeoutMs?: number): Promise<Answer> {
  return kit.post(crafted.body, crafted.headers, timeoutMs);
}

export function cooperativeChecks(): CheckSpec[] {
  return [
    cooperative(
      "runs the handler once for each accepted delivery",
      ROWS.firstDelivery,
      "1 run each",
      async (kit, state) => {
        const once = (id: string) => state.runs(id).started >= 1;
        await state.waitFor(() => kit.accepted.every(({ id }) => once(id)), GRACE_MS);
        const seen = kit.accepted.filter(({ id }) => once(id));
        kit.shared.wired = seen.length > 0 || kit.accepted.length === 0;
        if (seen.length === 0 && kit.accepted.length > 0) return verdict(false, "no run seen", NOT_WIRED);
        const wrong = kit.accepted.filter(({ id }) => state.runs(id).started !== 1);
        const first = wrong[0];
        if (first === undefined)
          return verdict(
            true,
            "1 run each",
            `The handler ran once for each of the ${kit.accepted.length} accepted deliveries.`,
          );
        return verdict(
          false,
          `${wrong.length} of ${kit.accepted.length} not run exactly once`,
          `"${first.check}" (${first.id}): ${runsText(state.runs(first.id))}.`,
        );
      },
    ),
    cooperative(
      "does not run the handler again for a duplicate",
      ROWS.duplicate,
      "1 run",
      async (kit, state) => {
        const sent = kit.shared.duplicate;
        if (sent === undefined) return verdict(false, "not run", "The duplicate check did not run.");
        const runs = state.runs(sent.id);
        return verdict(
          runs.started === 1,
          `${runs.started} runs`,
          `Delivered ${sent.id} twice, byte for byte: ${runsText(runs)}.`,
        );
      },
    ),
    cooperative(
      "does not run the handler for a body conflicting with a processed id",
      ROWS.conflict,
      "1 run",
      async (kit, state) => {
        const sent = kit.shared.conflict;
        if (sent === undefined) return verdict(false, "not run", "The conflict check did not run.");
        const runs = state.runs(sent.id);
        return verdict(
          runs.started === 1,
          `${runs.started} runs`,
          `Delivered ${sent.id}, another body under its id, then the original again: ${runsText(runs)}.`,
        );
      },
    ),
    cooperative("answers 5xx when a handler throws", ROWS.handlerThrows, "5xx", async (kit, state) => {
      const crafted = kit.craft({ id: kit.newId("throws", { throwOnce: true }) });
      kit.shared.failing = crafted;
      const answer = await resend(kit, crafted);
      const ran = await state.waitFor(() => state.runs(crafted.id).failed > 0, GRACE_MS);
      const outcome = expectAnswer(
        "5xx",
        answer,
        `Sent ${crafted.id}, whose handler the controller made throw`,
      );
      if (ran) return outcome;
      const runs = runsText(state.runs(crafted.id));
      return verdict(false, describeAnswer(answer), `${outcome.detail} The handler never ran (${runs}).`);
    }),
    cooperative(
      "runs the handler again on the retry after it threw, then answers 2xx",
      ROWS.handlerThrows,
      "2xx, run again",
      async (kit, state) => {
        const crafted = kit.shared.failing;
        if (crafted === undefined) return verdict(false, "not run", "The handler-failure check did not run.");
        const answer = await resend(kit, crafted);
        const runs = state.runs(crafted.id);
        const sent = `Sent ${crafted.id} again, byte for byte, as Optare retries after a failure (${runsText(runs)})`;
        const outcome = expectAnswer("2xx", answer, sent);
        if (!outcome.passed || runs.finished === 1) return outcome;
        return verdict(
          false,
          `${describeAnswer(answer)}, handler not run again`,
          `${outcome.detail} The retry was acknowledged without running the handler that had failed: the failed event was recorded as processed.`,
        );
      },
    ),
    cooperative(
      "answers 409 with Retry-After to a duplicate while the first is processing",
      ROWS.inFlight,
      "409 + Retry-After",
      async (kit, state) => {
        const crafted = kit.craft({ id: kit.newId("inflight", { block: true }) });
        const { ackTimeoutMs, timeoutMs } = kit.settings;
        const first = resend(kit, crafted, ackTimeoutMs + timeoutMs);
        try {
          if (!(await startOf(state, crafted.id, first, timeoutMs)))
            return notStarted(crafted.id, await first, state);
          const sent = `Sent ${crafted.id} again while its first delivery's handler was still running`;
          return expectAnswer("409", await resend(kit, crafted), sent, RETRY_AFTER);
        } finally {
          state.release(crafted.id);
          await first;
        }
      },
    ),
    cooperative(
      "answers 503 with Retry-After when a handler outlives the ack deadline",
      ROWS.ackDeadline,
      "503 + Retry-After",
      async (kit, state) => {
        const crafted = kit.craft({ id: kit.newId("deadline", { block: true }) });
        kit.shared.late = crafted;
        const { ackTimeoutMs, timeoutMs } = kit.settings;
        const first = resend(kit, crafted, ackTimeoutMs + timeoutMs);
        try {
          if (!(await startOf(state, crafted.id, first, timeoutMs)))
            return notStarted(crafted.id, await first, state);
          const answer = await first;
          const running = state.runs(crafted.id).finished === 0;
          const sent = `Sent ${crafted.id}, whose handler the controller held past the receiver's ack deadline (ackTimeoutMs ${ackTimeoutMs})`;
          if (answer.status === null || answer.status >= 300 || !running)
            return expectAnswer("503", answer, sent, RETRY_AFTER);
          return verdict(
            false,
            `${answer.status} while the handler was running`,
            `${sent}. It was acknowledged while the handler was still running: a 2xx may only follow a successful run.`,
          );
        } finally {
          state.release(crafted.id);
          const { finished, failed } = state.runs(crafted.id);
          await state.waitFor(
            () => state.runs(crafted.id).finished + state.runs(crafted.id).failed > finished + failed,
            GRACE_MS,
          );
        }
      },
    ),
    cooperative(
      "the retry after the ack deadline sees the outcome: a duplicate, not run again",
      ROWS.ackDeadline,
      "2xx, 1 run",
      async (kit, state) => {
        const crafted = kit.shared.late;
        if (crafted === undefined) return verdict(false, "not run", "The ack-deadline check did not run.");
        const answer = await resend(kit, crafted);
        const runs = state.runs(crafted.id);
        const outcome = expectAnswer(
          "2xx",
          answer,
          `Sent ${crafted.id} again, byte for byte, after its held handler finished (${runsText(runs)})`,
        );
        if (!outcome.passed || runs.started === 1) return outcome;
        return verdict(false, `${describeAnswer(answer)}, handler run ${runs.started} times`, outcome.detail);
      },
    ),
  ];
}

/** Waits until the handler for `id` starts: true, or false once the answer came and still no run began. */
async function startOf(
  state: CooperativeState,
  id: string,
  answer: Promise<Answer>,
  timeoutMs: number,
): Promise<boolean> {
  const started = () => state.runs(id).started > 0;
  return Promise.race([
    state.waitFor(started, timeoutMs),
    answer.then(() => state.waitFor(started, GRACE_MS)),
  ]);
}

function notStarted(id: string, answer: Answer, state: CooperativeState): Outcome {
  return verdict(
    false,
    describeAnswer(answer),
    `Sent ${id}: the handler never started (${runsText(state.runs(id))}); the answer was ${describeAnswer(answer)}.`,
  );
}
