// Dead letters: the jobs that failed every attempt, kept (with their error, stack traces and raw body)
// until replayed. Listed and replayed through a BullMQ queue handle on the worker's queue.
import type { Job } from "bullmq";
import { toEventId, toJobId } from "./job-id";
import type { EventJobData, EventJobQueue } from "./queue";

/** A job that failed every attempt, kept with its error and payload until replayed. */
export interface DeadLetter {
  /** The event id. */
  id: string;
  /** The BullMQ job id (the event id, escaped when BullMQ would refuse it). */
  jobId: string;
  type: string;
  attemptsMade: number;
  /** The last error's message. */
  failedReason: string;
  /** The stack of each failed attempt's error (BullMQ keeps the last ten). */
  stacktrace: string[];
  failedAt: Date | null;
  /** The raw body as received. */
  body: string;
}

export interface DeadLetters {
  /** Dead letters, most recently failed first (`limit` default 100). */
  listFailed(options?: { offset?: number; limit?: number }): Promise<DeadLetter[]>;
  /**
   * Runs a dead letter again (with a fresh set of `attempts`): back to the queue, where a worker takes it.
   * Resolves false when no failed job has this event id.
   */
  replay(id: string): Promise<boolean>;
  /** Replays every dead letter; resolves with how many. */
  replayFailed(): Promise<number>;
}

/** Moves failed job `jobId` back to wait with a fresh set of attempts; false when it is not a failed job. */
async function retryFailed(queue: EventJobQueue, jobId: string): Promise<boolean> {
  const job = await queue.getJob(jobId);
  if (job === undefined || !(await job.isFailed())) return false;
  // `resetAttemptsMade` (BullMQ ≥ 5.66): the worker's `attempts` count from zero again.
  await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
  return true;
}

function toDeadLetter(job: Job<EventJobData, string, string>): DeadLetter {
  return {
    id: toEventId(job.id!),
    jobId: job.id!,
    type: job.data?.type ?? job.name,
    attemptsMade: job.attemptsMade,
    failedReason: job.failedReason,
    stacktrace: job.stacktrace ?? [],
    failedAt: job.finishedOn === undefined ? null : new Date(job.finishedOn),
    body: job.data?.body,
  };
}

/** Listing and replay of the dead letters of `queue()` (created on first use). */
export function deadLetters(queue: () => EventJobQueue): DeadLetters {
  return {
    async listFailed({ offset = 0, limit = 100 } = {}) {
      const jobs = await queue().getFailed(offset, offset + limit - 1);
      return jobs.filter((job) => job?.id !== undefined).map(toDeadLetter);
    },
    async replay(id) {
      return retryFailed(queue(), toJobId(id));
    },
    async replayFailed() {
      const jobs = queue();
      // The ids first: a replayed job that fails again while this runs is not replayed twice.
      const ids = await jobs.getRanges(["failed"], 0, -1);
      let replayed = 0;
      for (const id of ids) if (await retryFailed(jobs, id)) replayed++;
      return replayed;
    },
  };
}
