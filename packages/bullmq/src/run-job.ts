// One job's run: parse the stored body, run the handlers through `processEvent` under the store's claim
// rules, and turn the outcome into what BullMQ expects (a result, a retryable error, an unrecoverable
// one, or a delay), logging and reporting each failure as the receiver does.
import {
  asWebhookError,
  eventErrorOf,
  type HandlerContext,
  type IdempotencyStore,
  type Logger,
  parseStoredEvent,
  processEvent,
  type Router,
  WebhookError,
  type WebhookEvent,
} from "@optare/webhooks";
import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import { toEventId } from "./job-id";
import type { EventJobData } from "./queue";

export interface JobRunnerOptions {
  attempts: number;
  backoffMs: number;
  store: IdempotencyStore | false;
  logger: Logger | undefined;
}

/** The error a failed attempt leaves on the job: the handler's own (its message and stack), else ours. */
function jobError(error: WebhookError): Error {
  if (error.code !== "handler_failed") return error;
  const cause = error.cause;
  return cause instanceof Error ? cause : new Error(String(cause));
}

/** The processor of a BullMQ worker for `webhooks`, and the errors it already logged and reported. */
export function createJobRunner<C extends HandlerContext>(
  webhooks: Pick<Router<C>, "dispatch" | "reportError">,
  { attempts, backoffMs, store, logger }: JobRunnerOptions,
) {
  /** Errors this worker already logged and reported, so its "failed" listener skips them. */
  const reported = new WeakSet<object>();

  function report(
    error: WebhookError,
    job: Job<EventJobData>,
    event: WebhookEvent | undefined,
    started: number,
    unrecoverable = false,
  ) {
    const attempt = job.attemptsMade + 1;
    const final = unrecoverable || attempt >= attempts;
    const why = eventErrorOf(error).message;
    const next = final
      ? "the job is kept as a dead letter (listFailed, replay)"
      : `retrying in ${Math.round(2 ** job.attemptsMade * backoffMs)} ms`;
    logger?.error(
      {
        code: error.code,
        eventId: event?.id ?? toEventId(job.id ?? ""),
        eventType: event?.event ?? job.data?.type,
        durationMs: Date.now() - started,
        attempt,
        attempts,
        err: error,
      },
      `Queued event failed (attempt ${attempt} of ${attempts}); ${next}: ${why}`,
    );
    webhooks.reportError(error, event === undefined ? {} : { event });
  }

  /** Reports `error` and fails the job for good, skipping its remaining attempts. */
  function giveUp(
    error: WebhookError,
    job: Job<EventJobData>,
    event: WebhookEvent | undefined,
    started: number,
  ): never {
    report(error, job, event, started, true);
    const unrecoverable = new UnrecoverableError(`${error.code}: ${error.message}`);
    reported.add(unrecoverable);
    throw unrecoverable;
  }

  async function run(job: Job<EventJobData>, token?: string): Promise<string> {
    const started = Date.now();
    // Retries are the worker's: BullMQ decides them from the job's options when an attempt fails.
    job.opts.attempts = attempts;
    job.opts.backoff = { type: "exponential", delay: backoffMs };
    let event: WebhookEvent;
    try {
      event = parseStoredEvent(job.data.body);
    } catch (error) {
      // A body that no longer parses (schemas changed since it was queued) fails the same way every time.
      giveUp(asWebhookError(error), job, undefined, started);
    }
    let outcome: Awaited<ReturnType<typeof processEvent>>;
    try {
      outcome = await processEvent(webhooks, event, job.data.body, {} as C, { store });
    } catch (error) {
      const known = asWebhookError(error);
      const thrown = jobError(known);
      // A handler may throw BullMQ's UnrecoverableError to skip the remaining attempts.
      report(known, job, event, started, thrown.name === "UnrecoverableError");
      reported.add(thrown);
      throw thrown;
    }
    switch (outcome.status) {
      case "in_progress":
        // Another worker (or receiver) holds the event's claim: look again when its lease runs out.
        await job.moveToDelayed(Date.now() + outcome.retryAfterMs, token);
        throw new DelayedError();
      case "conflict":
        // The store (shared with a receiver?) holds this id with another body: retrying cannot change that.
        return giveUp(
          new WebhookError(
            "event_conflict",
            "The store holds this event id with a different body; the handlers were not run.",
          ),
          job,
          event,
          started,
        );
      default:
        return outcome.status;
    }
  }

  return { run, reported };
}
