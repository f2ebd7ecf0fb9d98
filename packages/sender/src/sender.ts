// `createSender` (SPEC §1, §5, §9) wires the parts and fans events out: the registry (registry.ts), the
// envelope (envelope.ts), the retry schedule (schedule.ts), one attempt (delivery.ts, with the SSRF
// guard of address-guard.ts) and the HTTP client behind the `Transport` seam (transport.ts,
// undici-transport.ts).
import { sign } from "@optare/webhooks";
import { type Lookup, systemLookup } from "./address-guard";
import { type Clock, systemClock } from "./clock";
import { createDelivery, type ExhaustedDelivery } from "./delivery";
import {
  buildEnvelope,
  type EmitData,
  type EmitOptions,
  type EventEnvelope,
  type OrganizationRef,
} from "./envelope";
import { SenderError } from "./errors";
import { createId } from "./ids";
import { createRegistry, type Registry } from "./registry";
import { createSchedule, type Job, MAX_ATTEMPTS, RETRY_DELAYS } from "./schedule";
import { type DeliveryRecord, memorySenderStore, type SenderStore, type Webhook } from "./store";
import { createFetchTransport, type Transport } from "./transport";
import { createUndiciTransport } from "./undici-transport";

/** How long one attempt may take, response body included. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Attempts in flight at once, across all endpoints. */
export const DEFAULT_CONCURRENCY = 16;
/** Bytes of each response body kept in the delivery record. */
export const DEFAULT_RESPONSE_BODY_LIMIT = 1024;

export interface EmitResult<T extends string = string> {
  event: EventEnvelope<T, EmitData<T>>;
  /** The exact body every attempt carries. */
  body: string;
  /** The first attempt to each receiving endpoint. Retries continue in the background. */
  deliveries: DeliveryRecord[];
}

export interface SenderOptions {
  /** Endpoints and delivery history. Default `memorySenderStore()`. */
  store?: SenderStore;
  /** Event time, record timestamps and the retry schedule. Default the system clock; see `createVirtualClock`. */
  clock?: Clock;
  /**
   * Send through this `fetch` instead of the default client (undici keep-alive pools, at most
   * `concurrency` connections per origin). Redirects are not followed. `fetch` resolves host names
   * itself: the SSRF guard still refuses blocked addresses, but cannot pin the one it checked.
   */
  fetch?: typeof globalThis.fetch;
  /** Send through this transport instead (it must connect to the request's `address` when one is given). */
  transport?: Transport;
  /** Per-attempt timeout in ms, measured in real time. Default 30,000 (SPEC §1). */
  timeoutMs?: number;
  /** Attempts in flight at once. Default 16. */
  concurrency?: number;
  /** Attempts per event and endpoint, 1 to 5. Default 5; tools that want one shot use 1. */
  maxAttempts?: number;
  /**
   * Local development: allow `http:` URLs on loopback hosts (localhost, 127.0.0.1, [::1]), and turn
   * off the SSRF guard that otherwise refuses loopback, private, link-local, CGNAT, unspecified and
   * multicast addresses at every attempt. Default false (production mode).
   */
  allowInsecure?: boolean;
  /**
   * Resolves endpoint host names for the SSRF guard, once per attempt; the attempt connects to the
   * first address returned, after every one returned was checked. Default
   * `dns.promises.lookup(hostname, { all: true })`. Unused with `allowInsecure`.
   */
  lookup?: Lookup;
  /** Bytes of the response body kept per record. Default 1024. */
  responseBodyLimit?: number;
  /** Called after every attempt is recorded. */
  onDelivery?: (record: DeliveryRecord) => void;
  /** Called when all attempts to an endpoint failed. */
  onExhausted?: (exhausted: ExhaustedDelivery) => void;
  /**
   * Names this process in the claims it takes on pending retries in a durable store
   * (`postgresSenderStore`). Default a fresh random id per sender.
   */
  instanceId?: string;
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

export interface Sender extends Registry {
  readonly config: Readonly<SenderConfig>;
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
  /**
   * Schedules, on this sender's clock, every retry the store holds that is not scheduled here already:
   * the pending retries of a sender process that stopped or died. Each is due at its stored
   * `nextAttemptAt` (at once if that has passed). With several processes on one store, each retry is
   * claimed in the store before it is sent, so exactly one process sends it. Resolves with how many
   * retries it scheduled; 0 with a store that keeps no retries (`memorySenderStore`). Call it at start,
   * and periodically to take over the retries of a process that died while holding a claim.
   */
  resume(): Promise<number>;
  /** Retries scheduled and not yet due. */
  readonly pendingRetries: number;
  /** Resolves when no attempt is queued or in flight. Scheduled retries are not waited for. */
  drain(): Promise<void>;
  /**
   * Stops: cancels scheduled retries (a durable store keeps them for another sender's `resume()`),
   * rejects new events, and waits for attempts in flight.
   */
  close(): Promise<void>;
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

function resolveConfig(options: SenderOptions): SenderConfig {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1)) {
    throw new SenderError(
      "invalid_argument",
      "createSender: timeoutMs must be a positive number of milliseconds.",
    );
  }
  if (options.lookup !== undefined && typeof options.lookup !== "function") {
    throw new SenderError("invalid_argument", "createSender: lookup must be a function.");
  }
  if (options.fetch !== undefined && options.transport !== undefined) {
    throw new SenderError("invalid_argument", "createSender: pass fetch or transport, not both.");
  }
  return Object.freeze({
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
}

/**
 * The reference Optare sender (SPEC §1, §5, §9): an endpoint registry, signed fan-out, five attempts
 * (now, +1 min, +5 min, +15 min, +1 h after each failure), a 30 s timeout per attempt, no redirects,
 * one HTTP request per attempt, the SSRF guard in production mode, and a delivery record per attempt.
 */
export function createSender(options: SenderOptions = {}): Sender {
  const config = resolveConfig(options);
  const store = options.store ?? memorySenderStore();
  const clock = options.clock ?? systemClock;
  const ownTransport = options.transport === undefined;
  const transport =
    options.transport ??
    (options.fetch
      ? createFetchTransport(options.fetch)
      : createUndiciTransport({ connections: config.concurrency, timeoutMs: config.timeoutMs }));
  let closed = false;
  const schedule = createSchedule(clock, config.maxAttempts, (job) => delivery.attempt(job));
  const delivery = createDelivery({
    ...config,
    store,
    clock,
    transport,
    schedule,
    lookup: config.allowInsecure ? null : (options.lookup ?? systemLookup),
    instanceId: options.instanceId ?? createId("sender"),
    isClosed: () => closed,
    onDelivery: options.onDelivery,
    onExhausted: options.onExhausted,
  });
  const assertOpen = () => {
    if (closed) throw new SenderError("sender_closed", "The sender is closed.");
  };
  const registry = createRegistry({ ...config, store, clock, assertOpen, cancelRetries: schedule.cancel });

  async function emit<T extends string>(
    type: T,
    data: EmitData<T>,
    organization: OrganizationRef,
    emitOptions: EmitOptions = {},
  ): Promise<EmitResult<T>> {
    assertOpen();
    const { event, body } = buildEnvelope(type, data, organization, emitOptions, clock);
    const targets = (await store.listWebhooks(organization.id)).filter(
      (webhook) => webhook.isActive && webhook.events.includes(type),
    );
    const first = (webhook: Webhook) => {
      const signature = sign(body, webhook.secret);
      return delivery.attempt(
        { webhookId: webhook.id, eventId: event.id, event: type, body, signature, attempt: 1 },
        webhook,
      );
    };
    const records = await Promise.all(targets.map(first));
    return { event, body, deliveries: records.filter((record) => record !== null) };
  }

  async function resume(): Promise<number> {
    assertOpen();
    const pending = (await store.listPendingAttempts?.()) ?? [];
    const webhooks = new Map<string, Promise<Webhook | null>>();
    let scheduled = 0;
    for (const retry of pending) {
      if (schedule.has(retry.deliveryId) || retry.attempt > config.maxAttempts) continue;
      let webhook = webhooks.get(retry.webhookId);
      if (webhook === undefined) {
        webhook = Promise.resolve(store.getWebhook(retry.webhookId));
        webhooks.set(retry.webhookId, webhook);
      }
      const secret = (await webhook)?.secret;
      if (secret === undefined || closed) continue;
      const { webhookId, eventId, event, body, deliveryId } = retry;
      // `schedule.add` moves the job on to the attempt it schedules.
      const job: Job = {
        webhookId,
        eventId,
        event,
        body,
        signature: sign(body, secret),
        attempt: retry.attempt - 1,
        retryOf: deliveryId,
      };
      const due = Math.max(Date.parse(retry.nextAttemptAt), Date.parse(retry.claimedUntil ?? "") || 0);
      schedule.add(job, Math.max(0, due - clock.now()));
      scheduled++;
    }
    return scheduled;
  }

  return {
    config,
    ...registry,
    emit,
    resume,
    async listDeliveries(webhookId, limit = 50) {
      return store.listDeliveries(webhookId, limit);
    },
    get pendingRetries() {
      return schedule.size;
    },
    drain: delivery.drain,
    async close() {
      closed = true;
      schedule.clear();
      await delivery.drain();
      if (ownTransport) await transport.close();
    },
  };
}
