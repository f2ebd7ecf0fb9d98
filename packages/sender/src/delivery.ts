// One attempt of one job: wait for a slot, check the address (production mode), POST, turn what
// happened into a delivery record, store it, tell the hooks, and hand a failure to the schedule.
import { SIGNATURE_HEADER } from "@optare/webhooks";
import { checkAddress, type Lookup } from "./address-guard";
import type { Clock } from "./clock";
import { createId } from "./ids";
import { createLimiter } from "./limiter";
import { answered, failed, failure, type Outcome } from "./outcome";
import type { Job, Schedule } from "./schedule";
import type { DeliveryRecord, SenderStore, Webhook } from "./store";
import type { Transport } from "./transport";

const USER_AGENT = "Optare-Webhooks-Sender";
/** A claim on a pending retry outlives the attempt's timeout by this much. */
const CLAIM_MARGIN_MS = 60_000;

/** Passed to `onExhausted` when the last attempt to an endpoint failed. */
export interface ExhaustedDelivery {
  webhookId: string;
  eventId: string;
  event: string;
  /** The record of the last attempt. */
  lastDelivery: DeliveryRecord;
}

export interface DeliveryContext {
  store: SenderStore;
  clock: Clock;
  transport: Transport;
  schedule: Schedule;
  /** The SSRF guard's resolver; null when the guard is off (`allowInsecure`). */
  lookup: Lookup | null;
  timeoutMs: number;
  concurrency: number;
  responseBodyLimit: number;
  maxAttempts: number;
  /** Names this process in the claims it takes on pending retries (durable stores). */
  instanceId: string;
  isClosed(): boolean;
  onDelivery?: ((record: DeliveryRecord) => void) | undefined;
  onExhausted?: ((exhausted: ExhaustedDelivery) => void) | undefined;
}

function callHook<T>(name: string, hook: ((value: T) => void) | undefined, value: T): void {
  try {
    hook?.(value);
  } catch (error) {
    console.error(`@optare/webhooks-sender: the ${name} hook threw`, error);
  }
}

export function createDelivery(context: DeliveryContext) {
  const { store, clock, transport, schedule, lookup, timeoutMs } = context;
  const limiter = createLimiter(context.concurrency);
  let busy = 0;
  const idle: Array<() => void> = [];

  async function post(url: string, job: Job): Promise<Outcome> {
    const started = performance.now();
    try {
      let address: string | null = null;
      let budget = timeoutMs;
      if (lookup !== null) {
        address = await checkAddress(url, lookup, timeoutMs);
        // Whole milliseconds: Node keeps one timer list per distinct duration, so a fractional budget
        // gives every request a list of its own. Receipt (bench/sender.bench.mjs with SENDER_COMPARE):
        // a fractional budget on every attempt cost 17% of emit() throughput (0.66× vs 0.80× a fixed build).
        budget = Math.max(1, Math.round(timeoutMs - (performance.now() - started)));
      }
      const headers = {
        "content-type": "application/json",
        [SIGNATURE_HEADER]: job.signature,
        "user-agent": USER_AGENT,
      };
      const bodyLimit = context.responseBodyLimit;
      const answer = await transport.post({
        url,
        address,
        body: job.body,
        headers,
        timeoutMs: budget,
        bodyLimit,
      });
      return answered(answer, performance.now() - started);
    } catch (error) {
      return failed(error, timeoutMs, performance.now() - started);
    }
  }

  async function record(job: Job, webhook: Webhook, outcome: Outcome): Promise<DeliveryRecord> {
    const now = clock.now();
    const failed = outcome.errorCode !== null && outcome.errorCode !== "endpoint_disabled";
    const delay = failed && !context.isClosed() ? schedule.delayAfter(job) : null;
    const record: DeliveryRecord = {
      id: createId("dlv"),
      webhookId: job.webhookId,
      eventId: job.eventId,
      event: job.event,
      attempt: job.attempt,
      url: webhook.url,
      ...outcome,
      success: outcome.errorCode === null,
      deliveredAt: new Date(now).toISOString(),
      nextAttemptAt: delay === null ? null : new Date(now + delay).toISOString(),
    };
    await store.addDelivery(record, { body: job.body, retryOf: job.retryOf ?? null });
    callHook("onDelivery", context.onDelivery, record);
    if (delay !== null) {
      // Only a store that keeps pending retries (to resume them after a restart) needs to know which
      // record a retry answers: in memory, tracking it cost ~135 bytes per pending retry (37.5 → 50.3 MiB
      // for 100,000 in bench/sender.bench.mjs).
      if (store.listPendingAttempts !== undefined) job.retryOf = record.id;
      schedule.add(job, delay);
    } else if (!record.success && job.attempt === context.maxAttempts) {
      const { webhookId, eventId, event } = job;
      callHook("onExhausted", context.onExhausted, { webhookId, eventId, event, lastDelivery: record });
    }
    return record;
  }

  /**
   * Whether this process may make the retry `job`: with a durable store, only the process whose claim
   * on the pending record succeeds sends it. The claim lapses after the timeout plus a minute, so the
   * retry of a process that died mid-attempt is made by another one.
   */
  async function claim(job: Job): Promise<boolean> {
    if (job.retryOf === undefined || store.claimAttempt === undefined) return true;
    const now = clock.now();
    return store.claimAttempt(job.retryOf, {
      owner: context.instanceId,
      now: new Date(now).toISOString(),
      until: new Date(now + timeoutMs + CLAIM_MARGIN_MS).toISOString(),
    });
  }

  /**
   * Runs `job`'s current attempt. Null when its endpoint was deleted meanwhile, or when another process
   * claimed this retry (nothing to record).
   */
  async function attempt(job: Job, known?: Webhook): Promise<DeliveryRecord | null> {
    busy++;
    try {
      await limiter.acquire();
      let webhook: Webhook | null;
      let outcome: Outcome;
      try {
        if (!(await claim(job))) return null;
        webhook = known ?? (await store.getWebhook(job.webhookId));
        if (webhook === null) return null;
        outcome = webhook.isActive
          ? await post(webhook.url, job)
          : failure("endpoint_disabled", "the endpoint is disabled; this retry was not sent", 0);
      } finally {
        limiter.release();
      }
      return await record(job, webhook, outcome);
    } finally {
      if (--busy === 0) for (const resolve of idle.splice(0)) resolve();
    }
  }

  /** Resolves when no attempt is queued or in flight. */
  function drain(): Promise<void> {
    return busy === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
  }

  return { attempt, drain };
}
