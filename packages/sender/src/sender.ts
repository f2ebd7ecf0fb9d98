import { randomBytes } from "node:crypto";
import { type EventData, type EventType, type Loose, SIGNATURE_HEADER, sign } from "@optare/webhooks";
import { type Clock, systemClock, type TimerHandle } from "./clock";
import { SenderError } from "./errors";
import {
  type DeliveryErrorCode,
  type DeliveryRecord,
  memorySenderStore,
  type SenderStore,
  type Webhook,
} from "./store";
import { AttemptTimeout, createFetchTransport, createUndiciTransport, type HttpAnswer } from "./transport";
import { checkEndpointUrl } from "./url";

/** Delays before attempts 2 to 5, each counted from the end of the previous failed attempt. */
export const RETRY_DELAYS: readonly number[] = Object.freeze([60_000, 5 * 60_000, 15 * 60_000, 60 * 60_000]);
/** Attempts per event and endpoint: the first, then one after each delay in `RETRY_DELAYS`. */
export const MAX_ATTEMPTS = RETRY_DELAYS.length + 1;
/** How long one attempt may take, response body included. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Attempts in flight at once, across all endpoints. */
export const DEFAULT_CONCURRENCY = 16;
/** Bytes of each response body kept in the delivery record. */
export const DEFAULT_RESPONSE_BODY_LIMIT = 1024;

const USER_AGENT = "Optare-Webhooks-Sender";

/** The organization an event belongs to; its endpoints receive it. */
export interface OrganizationRef {
  id: string;
  name: string;
}

/** The envelope the sender serialises, signs and posts. */
export interface EventEnvelope<Type extends string = string, Data = Record<string, unknown>> {
  event: Type;
  /** Event time, ISO-8601. */
  timestamp: string;
  id: string;
  data: Data;
  organization: OrganizationRef;
}

/**
 * `EventData<T>` for a catalog event (extra fields allowed, as on the wire: `Loose`), any JSON object for
 * other event types.
 */
export type EmitData<T extends string> = T extends EventType ? Loose<EventData<T>> : Record<string, unknown>;

export interface EmitOptions {
  /** Event id; default a fresh `evt_…`. Emitting twice with the same id and timestamp gives byte-identical duplicates. */
  id?: string;
  /** Event time; default the sender clock's current time. */
  timestamp?: string | Date;
}

export interface EmitResult<T extends string = string> {
  event: EventEnvelope<T, EmitData<T>>;
  /** The exact body every attempt carries. */
  body: string;
  /** The first attempt to each receiving endpoint. Retries continue in the background. */
  deliveries: DeliveryRecord[];
}

/** Passed to `onExhausted` when the last attempt to an endpoint failed. */
export interface ExhaustedDelivery {
  webhookId: string;
  eventId: string;
  event: string;
  /** The record of the last attempt. */
  lastDelivery: DeliveryRecord;
}

export interface SenderOptions {
  /** Endpoints and delivery history. Default `memorySenderStore()`. */
  store?: SenderStore;
  /** Event time, record timestamps and the retry schedule. Default the system clock; see `createVirtualClock`. */
  clock?: Clock;
  /**
   * Send through this `fetch` instead of the default client (undici keep-alive pools, at most
   * `concurrency` connections per origin). Either way redirects are not followed.
   */
  fetch?: typeof globalThis.fetch;
  /** Per-attempt timeout in ms, measured in real time. Default 30,000 (SPEC §1). */
  timeoutMs?: number;
  /** Attempts in flight at once. Default 16. */
  concurrency?: number;
  /** Attempts per event and endpoint, 1 to 5. Default 5; tools that want one shot use 1. */
  maxAttempts?: number;
  /** Allow `http:` URLs on loopback hosts (localhost, 127.0.0.1, [::1]) for local development. Default false. */
  allowInsecure?: boolean;
  /** Bytes of the response body kept per record. Default 1024. */
  responseBodyLimit?: number;
  /** Called after every attempt is recorded. */
  onDelivery?: (record: DeliveryRecord) => void;
  /** Called when all attempts to an endpoint failed. */
  onExhausted?: (exhausted: ExhaustedDelivery) => void;
}

/** The resolved settings of a sender. */
export interface SenderConfig {
  timeoutMs: number;
  concurrency: number;
  maxAttempts: number;
  retryDelays: readonly number[];
  allowInsecure: boolean;
  responseBodyLimit: number;
}

export interface CreateWebhookOptions {
  /** Use this secret instead of a fresh one (e.g. the secret a receiver under test is configured with). */
  secret?: string;
}

export interface Sender {
  readonly config: Readonly<SenderConfig>;
  /** Registers an endpoint with a fresh secret: 32 random bytes as 64 lowercase hex characters. */
  createWebhook(
    organizationId: string,
    url: string,
    events: readonly string[],
    options?: CreateWebhookOptions,
  ): Promise<Webhook>;
  listWebhooks(organizationId: string): Promise<Webhook[]>;
  getWebhook(id: string): Promise<Webhook | null>;
  /** Deletes an endpoint, its history and its pending retries. False when it did not exist. */
  deleteWebhook(id: string): Promise<boolean>;
  /** Enables or disables an endpoint. Retries that come due while it is disabled are recorded as not sent. */
  setActive(id: string, isActive: boolean): Promise<Webhook>;
  /**
   * Sends an event to every active endpoint of `organization` subscribed to `type`. Resolves once the
   * first attempt to each endpoint is recorded; failed ones are retried on the schedule.
   */
  emit<T extends string>(
    type: T,
    data: EmitData<T>,
    organization: OrganizationRef,
    options?: EmitOptions,
  ): Promise<EmitResult<T>>;
  /** The newest `limit` (default 50) attempts to one endpoint, newest first. */
  listDeliveries(webhookId: string, limit?: number): Promise<DeliveryRecord[]>;
  /** Retries scheduled and not yet due. */
  readonly pendingRetries: number;
  /** Resolves when no attempt is queued or in flight. Scheduled retries are not waited for. */
  drain(): Promise<void>;
  /** Stops: cancels scheduled retries, rejects new events, and waits for attempts in flight. */
  close(): Promise<void>;
}

interface Job {
  webhookId: string;
  eventId: string;
  event: string;
  body: string;
  signature: string;
  attempt: number;
  timer: TimerHandle;
}

interface Outcome {
  statusCode: number | null;
  responseBody: string | null;
  errorCode: DeliveryErrorCode | null;
  error: string | null;
  durationMs: number;
}

// Ids come from a pool of random bytes refilled 4 KiB at a time: one randomBytes call per delivery
// was the sender's largest CPU cost.
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** `<prefix>_` followed by 24 random hex characters (96 bits). */
function createId(prefix: string): string {
  if (poolOffset + 12 > pool.length) {
    pool = randomBytes(4096);
    poolOffset = 0;
  }
  poolOffset += 12;
  return `${prefix}_${pool.toString("hex", poolOffset - 12, poolOffset)}`;
}

// The last epoch millisecond rendered as ISO-8601: deliveries concluding in the same millisecond
// (every one of them under a virtual clock) share the string instead of each formatting a Date.
let isoAt = Number.NaN;
let isoText = "";

/** `new Date(ms).toISOString()`, memoised for the most recent `ms`. */
function toIso(ms: number): string {
  if (ms !== isoAt) {
    isoText = new Date(ms).toISOString();
    isoAt = ms;
  }
  return isoText;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkInteger(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new SenderError(
      "invalid_argument",
      `createSender: ${name} must be an integer from ${min} to ${max}.`,
    );
  }
  return value;
}

function checkString(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new SenderError("invalid_argument", `${name} must be a non-empty string.`);
  }
  return value;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause ?? error;
  const code = (cause as { code?: unknown } | null)?.code;
  const message = (cause as { message?: unknown } | null)?.message || (error as Error | null)?.message;
  const text = typeof message === "string" && message.length > 0 ? message : String(error);
  return typeof code === "string" && !text.includes(code) ? `${code} ${text}` : text;
}

interface Waiter {
  resolve: () => void;
  next: Waiter | null;
}

/** A counting semaphore with a FIFO of waiters (a linked list: 100,000 queued attempts stay O(1) each). */
function createLimiter(slots: number) {
  let free = slots;
  let head: Waiter | null = null;
  let tail: Waiter | null = null;
  return {
    acquire(): Promise<void> | undefined {
      if (free > 0) {
        free--;
        return undefined;
      }
      return new Promise<void>((resolve) => {
        const waiter: Waiter = { resolve, next: null };
        if (tail === null) head = waiter;
        else tail.next = waiter;
        tail = waiter;
      });
    },
    release(): void {
      const waiter = head;
      if (waiter === null) {
        free++;
        return;
      }
      head = waiter.next;
      if (head === null) tail = null;
      waiter.resolve();
    },
  };
}

function callHook<T>(name: string, hook: ((value: T) => void) | undefined, value: T): void {
  if (hook === undefined) return;
  try {
    hook(value);
  } catch (error) {
    console.error(`@optare/webhooks-sender: the ${name} hook threw`, error);
  }
}

/**
 * The reference Optare sender (SPEC §1, §5): an endpoint registry, signed fan-out, five attempts
 * (now, +1 min, +5 min, +15 min, +1 h after each failure), a 30 s timeout per attempt, no redirects,
 * and a delivery record per attempt.
 */
export function createSender(options: SenderOptions = {}): Sender {
  const store = options.store ?? memorySenderStore();
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1)) {
    throw new SenderError(
      "invalid_argument",
      "createSender: timeoutMs must be a positive number of milliseconds.",
    );
  }
  const config: SenderConfig = Object.freeze({
    timeoutMs,
    concurrency: checkInteger("concurrency", options.concurrency, DEFAULT_CONCURRENCY, 1, 10_000),
    maxAttempts: checkInteger("maxAttempts", options.maxAttempts, MAX_ATTEMPTS, 1, MAX_ATTEMPTS),
    retryDelays: RETRY_DELAYS,
    allowInsecure: options.allowInsecure === true,
    responseBodyLimit: checkInteger(
      "responseBodyLimit",
      options.responseBodyLimit,
      DEFAULT_RESPONSE_BODY_LIMIT,
      0,
      1024 * 1024,
    ),
  });
  const limiter = createLimiter(config.concurrency);
  const transport = options.fetch
    ? createFetchTransport(options.fetch)
    : createUndiciTransport(config.concurrency, timeoutMs);
  const pending = new Set<Job>();
  let busy = 0;
  let idle: Array<() => void> = [];
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new SenderError("sender_closed", "The sender is closed.");
  }

  async function requireWebhook(id: string): Promise<Webhook> {
    const webhook = await store.getWebhook(id);
    if (webhook === null) throw new SenderError("webhook_not_found", `No webhook endpoint with id ${id}.`);
    return webhook;
  }

  function answered(answer: HttpAnswer, durationMs: number): Outcome {
    const { status, body: responseBody } = answer;
    if (status >= 200 && status < 300) {
      return { statusCode: status, responseBody, errorCode: null, error: null, durationMs };
    }
    const detail =
      status >= 300 && status < 400
        ? `redirect not followed${answer.location ? ` (location: ${answer.location})` : ""}`
        : answer.statusText || "not a 2xx response";
    const error = `http_status: ${status} ${detail}`;
    return { statusCode: status, responseBody, errorCode: "http_status", error, durationMs };
  }

  function failed(error: unknown, durationMs: number): Outcome {
    if (error instanceof AttemptTimeout) {
      const message = `timeout: no complete response within ${timeoutMs} ms`;
      return { statusCode: null, responseBody: null, errorCode: "timeout", error: message, durationMs };
    }
    const message = `network_error: ${describeNetworkError(error)}`;
    return { statusCode: null, responseBody: null, errorCode: "network_error", error: message, durationMs };
  }

  // A plain promise chain rather than an async function around an await: one promise fewer per attempt.
  function post(url: string, job: Job): Promise<Outcome> {
    const headers = {
      "content-type": "application/json",
      [SIGNATURE_HEADER]: job.signature,
      "user-agent": USER_AGENT,
    };
    const started = performance.now();
    let sent: Promise<HttpAnswer>;
    try {
      sent = transport.post(url, job.body, headers, timeoutMs, config.responseBodyLimit);
    } catch (error) {
      sent = Promise.reject(error);
    }
    return sent.then(
      (answer) => answered(answer, performance.now() - started),
      (error: unknown) => failed(error, performance.now() - started),
    );
  }

  function schedule(job: Job, delay: number): void {
    job.attempt++;
    pending.add(job);
    job.timer = clock.setTimeout(() => {
      pending.delete(job);
      job.timer = undefined;
      // Only a failing store can reject here; with real timers nobody awaits this promise.
      return attempt(job).catch((error: unknown) => {
        console.error(`@optare/webhooks-sender: retry ${job.attempt} of ${job.eventId} was lost`, error);
      });
    }, delay);
  }

  async function attempt(job: Job, known?: Webhook): Promise<DeliveryRecord | null> {
    busy++;
    try {
      const slot = limiter.acquire();
      if (slot !== undefined) await slot;
      let webhook: Webhook | null;
      let outcome: Outcome;
      try {
        webhook = known ?? (await store.getWebhook(job.webhookId));
        if (webhook === null) return null; // Deleted meanwhile, history included: nothing to record.
        outcome = webhook.isActive
          ? await post(webhook.url, job)
          : {
              statusCode: null,
              responseBody: null,
              errorCode: "endpoint_disabled",
              error: "endpoint_disabled: the endpoint is disabled; this retry was not sent",
              durationMs: 0,
            };
      } finally {
        limiter.release();
      }
      const now = clock.now();
      const delay = RETRY_DELAYS[job.attempt - 1];
      const retry =
        outcome.errorCode !== null &&
        outcome.errorCode !== "endpoint_disabled" &&
        job.attempt < config.maxAttempts &&
        delay !== undefined &&
        !closed;
      const record: DeliveryRecord = {
        id: createId("dlv"),
        webhookId: job.webhookId,
        eventId: job.eventId,
        event: job.event,
        attempt: job.attempt,
        url: webhook.url,
        ...outcome,
        success: outcome.errorCode === null,
        deliveredAt: toIso(now),
        nextAttemptAt: retry ? new Date(now + delay).toISOString() : null,
      };
      const saved = store.addDelivery(record);
      if (saved !== undefined) await saved;
      callHook("onDelivery", options.onDelivery, record);
      if (retry) {
        schedule(job, delay);
      } else if (!record.success && job.attempt === config.maxAttempts) {
        callHook("onExhausted", options.onExhausted, {
          webhookId: job.webhookId,
          eventId: job.eventId,
          event: job.event,
          lastDelivery: record,
        });
      }
      return record;
    } finally {
      busy--;
      if (busy === 0) {
        const waiters = idle;
        idle = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  function drain(): Promise<void> {
    return busy === 0 ? Promise.resolve() : new Promise((resolve) => idle.push(resolve));
  }

  return {
    config,

    async createWebhook(organizationId, url, events, webhookOptions = {}) {
      assertOpen();
      checkString("organizationId", organizationId);
      const href = checkEndpointUrl(url, config.allowInsecure);
      if (!Array.isArray(events) || events.length === 0) {
        throw new SenderError("invalid_argument", "events must be a non-empty array of event types.");
      }
      for (const event of events) checkString("Every event type", event);
      const secret =
        webhookOptions.secret === undefined
          ? randomBytes(32).toString("hex")
          : checkString("secret", webhookOptions.secret);
      const webhook: Webhook = {
        id: createId("wh"),
        organizationId,
        url: href,
        events: [...new Set(events)],
        secret,
        isActive: true,
        createdAt: new Date(clock.now()).toISOString(),
      };
      await store.saveWebhook(webhook);
      return webhook;
    },

    async listWebhooks(organizationId) {
      return store.listWebhooks(organizationId);
    },

    async getWebhook(id) {
      return store.getWebhook(id);
    },

    async deleteWebhook(id) {
      for (const job of pending) {
        if (job.webhookId === id) {
          clock.clearTimeout(job.timer);
          pending.delete(job);
        }
      }
      return store.deleteWebhook(id);
    },

    async setActive(id, isActive) {
      if (typeof isActive !== "boolean")
        throw new SenderError("invalid_argument", "isActive must be a boolean.");
      const webhook = { ...(await requireWebhook(id)), isActive };
      await store.saveWebhook(webhook);
      return webhook;
    },

    async emit(type, data, organization, emitOptions = {}) {
      assertOpen();
      checkString("The event type", type);
      if (!isPlainObject(data)) throw new SenderError("invalid_argument", "data must be a JSON object.");
      if (!isPlainObject(organization)) {
        throw new SenderError("invalid_argument", "organization must be { id, name }.");
      }
      checkString("organization.id", organization.id);
      if (typeof organization.name !== "string") {
        throw new SenderError("invalid_argument", "organization.name must be a string.");
      }
      const at = emitOptions.timestamp;
      const timestamp =
        at === undefined ? toIso(clock.now()) : typeof at === "string" ? at : at.toISOString();
      if (typeof at === "string" && Number.isNaN(Date.parse(at))) {
        throw new SenderError("invalid_argument", "timestamp must be a Date or an ISO-8601 string.");
      }
      const event: EventEnvelope<typeof type, EmitData<typeof type>> = {
        event: type,
        timestamp,
        id: emitOptions.id === undefined ? createId("evt") : checkString("id", emitOptions.id),
        data,
        organization: { id: organization.id, name: organization.name },
      };
      let body: string;
      try {
        body = JSON.stringify(event);
      } catch (error) {
        throw new SenderError(
          "invalid_argument",
          `data is not serialisable as JSON (${(error as Error).message}).`,
        );
      }
      const listed = store.listWebhooks(organization.id);
      const targets = (Array.isArray(listed) ? listed : await listed).filter(
        (webhook) => webhook.isActive && webhook.events.includes(type),
      );
      const first = (webhook: Webhook) =>
        attempt(
          {
            webhookId: webhook.id,
            eventId: event.id,
            event: type,
            body,
            signature: sign(body, webhook.secret),
            attempt: 1,
            timer: undefined,
          },
          webhook,
        );
      // One endpoint is the common case: no Promise.all around a single attempt.
      const records =
        targets.length === 1 ? [await first(targets[0]!)] : await Promise.all(targets.map(first));
      return { event, body, deliveries: records.filter((record) => record !== null) };
    },

    async listDeliveries(webhookId, limit = 50) {
      return store.listDeliveries(webhookId, limit);
    },

    get pendingRetries() {
      return pending.size;
    },

    drain,

    async close() {
      closed = true;
      for (const job of pending) clock.clearTimeout(job.timer);
      pending.clear();
      await drain();
      transport.close();
    },
  };
}
