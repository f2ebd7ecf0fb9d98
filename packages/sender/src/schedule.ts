// The retry schedule (SPEC §1): a failed attempt is tried again 1, 5, 15 and 60 minutes after it
// failed, five attempts in all, on the sender's clock.
import type { Clock, TimerHandle } from "./clock";

/** Delays before attempts 2 to 5, each counted from the end of the previous failed attempt. */
export const RETRY_DELAYS: readonly number[] = Object.freeze([60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000]);
/** Attempts per event and endpoint: the first, then one after each delay in `RETRY_DELAYS`. */
export const MAX_ATTEMPTS = RETRY_DELAYS.length + 1;

/** One event on its way to one endpoint: the same body and signature on every attempt. */
export interface Job {
  webhookId: string;
  eventId: string;
  event: string;
  body: string;
  signature: string;
  /** The attempt under way, or the next one while the job waits. */
  attempt: number;
  /** The id of the failed attempt's record that scheduled this retry; unset for a first attempt. */
  retryOf?: string;
}

export interface Schedule {
  /** How long to wait before retrying `job` after its current attempt failed; null after the last attempt. */
  delayAfter(job: Job): number | null;
  /** Runs `job`'s next attempt `delay` ms from now. */
  add(job: Job, delay: number): void;
  /** Whether the retry scheduled by record `retryOf` waits here. */
  has(retryOf: string): boolean;
  /** Drops the waiting retries of one endpoint. */
  cancel(webhookId: string): void;
  /** Drops every waiting retry. */
  clear(): void;
  /** Retries waiting. */
  readonly size: number;
}

export function createSchedule(
  clock: Clock,
  maxAttempts: number,
  run: (job: Job) => Promise<unknown>,
): Schedule {
  const waiting = new Map<Job, TimerHandle>();
  const retryIds = new Set<string>();
  const forget = (job: Job) => {
    waiting.delete(job);
    if (job.retryOf !== undefined) retryIds.delete(job.retryOf);
  };
  return {
    delayAfter(job) {
      return job.attempt < maxAttempts ? (RETRY_DELAYS[job.attempt - 1] ?? null) : null;
    },
    add(job, delay) {
      job.attempt++;
      const timer = clock.setTimeout(() => {
        forget(job);
        // Only a failing store can reject here; with real timers nobody awaits this promise.
        return run(job).catch((error: unknown) => {
          console.error(`@optare/webhooks-sender: retry ${job.attempt} of ${job.eventId} was lost`, error);
        });
      }, delay);
      waiting.set(job, timer);
      if (job.retryOf !== undefined) retryIds.add(job.retryOf);
    },
    has: (retryOf) => retryIds.has(retryOf),
    cancel(webhookId) {
      for (const [job, timer] of waiting) {
        if (job.webhookId !== webhookId) continue;
        clock.clearTimeout(timer);
        forget(job);
      }
    },
    clear() {
      for (const timer of waiting.values()) clock.clearTimeout(timer);
      waiting.clear();
      retryIds.clear();
    },
    get size() {
      return waiting.size;
    },
  };
}
