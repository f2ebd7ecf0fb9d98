/** A registered endpoint (SPEC §1): it receives the events it subscribes to while `isActive`. */
export interface Webhook {
  id: string;
  organizationId: string;
  url: string;
  /** Event types this endpoint receives. */
  events: string[];
  /** 64 lowercase hex characters; the HMAC key is this string's UTF-8 bytes. */
  secret: string;
  isActive: boolean;
  /** ISO-8601. */
  createdAt: string;
}

/**
 * Why an attempt failed. `http_status` covers every non-2xx answer, 3xx included; `blocked_address`
 * is an attempt the SSRF guard refused before connecting (production mode).
 */
export type DeliveryErrorCode =
  | "http_status"
  | "timeout"
  | "network_error"
  | "endpoint_disabled"
  | "blocked_address";

/** One delivery attempt, successful or not. */
export interface DeliveryRecord {
  id: string;
  webhookId: string;
  eventId: string;
  event: string;
  /** 1 to 5. */
  attempt: number;
  url: string;
  /** The HTTP status, or null when no response arrived (timeout, network error, not sent, blocked). */
  statusCode: number | null;
  /** The start of the response body, truncated to the sender's `responseBodyLimit`. */
  responseBody: string | null;
  errorCode: DeliveryErrorCode | null;
  /** `"<errorCode>: <what happened>"`, or null on success. */
  error: string | null;
  /** Wall time of the HTTP exchange, in ms (0 when nothing was sent). */
  durationMs: number;
  success: boolean;
  /** When the attempt concluded (ISO-8601, sender clock). */
  deliveredAt: string;
  /** When the next attempt is due (ISO-8601), or null when none will follow. */
  nextAttemptAt: string | null;
}

type Awaitable<T> = T | Promise<T>;

/** What `addDelivery` gets beside the record, for stores that keep retries across restarts. */
export interface AttemptDetails {
  /** The exact body of every attempt of this event to this endpoint. */
  body: string;
  /** The record whose scheduled retry this attempt is (that retry is now made), or null for a first attempt. */
  retryOf: string | null;
}

/** A retry that a failed attempt scheduled and no process has made yet, as a durable store keeps it. */
export interface PendingAttempt {
  /** The record of the failed attempt that scheduled it. */
  deliveryId: string;
  webhookId: string;
  eventId: string;
  event: string;
  /** The attempt to make: 2 to 5. */
  attempt: number;
  body: string;
  /** When it is due (ISO-8601, sender clock). */
  nextAttemptAt: string;
  /** Until when another process holds it (ISO-8601), or null when nobody does. */
  claimedUntil: string | null;
}

/** A process's hold on one pending attempt while it makes it. */
export interface AttemptClaim {
  /** The claiming sender's `instanceId`. */
  owner: string;
  /** ISO-8601, sender clock. */
  now: string;
  /** The hold lapses then (a process that died mid-attempt); ISO-8601, sender clock. */
  until: string;
}

/**
 * Where the sender keeps endpoints and delivery history. Implement it over a database to keep
 * history across restarts; `memorySenderStore` is the default.
 */
export interface SenderStore {
  saveWebhook(webhook: Webhook): Awaitable<void>;
  getWebhook(id: string): Awaitable<Webhook | null>;
  listWebhooks(organizationId: string): Awaitable<Webhook[]>;
  /** Deletes the endpoint and its delivery history; false when it did not exist. */
  deleteWebhook(id: string): Awaitable<boolean>;
  /**
   * Records an attempt. A durable store keeps `details.body` while `record.nextAttemptAt` is set, and
   * marks the retry `details.retryOf` as made, so `listPendingAttempts` lists exactly the retries due.
   */
  addDelivery(record: DeliveryRecord, details?: AttemptDetails): Awaitable<void>;
  /** The newest `limit` records of one endpoint, newest first. */
  listDeliveries(webhookId: string, limit: number): Awaitable<DeliveryRecord[]>;
  /** Durable stores: the retries scheduled and not yet made, for `sender.resume()` in a new process. */
  listPendingAttempts?(): Awaitable<PendingAttempt[]>;
  /**
   * Durable stores: takes the pending retry scheduled by record `deliveryId` for one process, atomically.
   * False when it was made already or another process holds it: the caller must not send it.
   */
  claimAttempt?(deliveryId: string, claim: AttemptClaim): Awaitable<boolean>;
}

export interface MemorySenderStoreOptions {
  /** Records kept per endpoint; older ones are dropped. Default 50 (what the history lists). */
  maxDeliveriesPerWebhook?: number;
}

function copyWebhook(webhook: Webhook): Webhook {
  return { ...webhook, events: [...webhook.events] };
}

/**
 * An in-process `SenderStore`. History is bounded per endpoint, so memory grows with the number of
 * endpoints, never with the number of deliveries. Nothing survives a restart.
 */
export function memorySenderStore(options: MemorySenderStoreOptions = {}): SenderStore {
  const limit = options.maxDeliveriesPerWebhook ?? 50;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError("memorySenderStore: maxDeliveriesPerWebhook must be a positive integer");
  }
  const webhooks = new Map<string, Webhook>();
  const byOrganization = new Map<string, Set<string>>();
  const deliveries = new Map<string, DeliveryRecord[]>();

  return {
    saveWebhook(webhook) {
      const previous = webhooks.get(webhook.id);
      if (previous && previous.organizationId !== webhook.organizationId) {
        byOrganization.get(previous.organizationId)?.delete(webhook.id);
      }
      webhooks.set(webhook.id, copyWebhook(webhook));
      let ids = byOrganization.get(webhook.organizationId);
      if (ids === undefined) {
        ids = new Set();
        byOrganization.set(webhook.organizationId, ids);
      }
      ids.add(webhook.id);
    },
    getWebhook(id) {
      const webhook = webhooks.get(id);
      return webhook ? copyWebhook(webhook) : null;
    },
    listWebhooks(organizationId) {
      const ids = byOrganization.get(organizationId) ?? [];
      return [...ids].map((id) => copyWebhook(webhooks.get(id)!));
    },
    deleteWebhook(id) {
      const webhook = webhooks.get(id);
      if (webhook === undefined) return false;
      webhooks.delete(id);
      deliveries.delete(id);
      const ids = byOrganization.get(webhook.organizationId);
      ids?.delete(id);
      if (ids?.size === 0) byOrganization.delete(webhook.organizationId);
      return true;
    },
    addDelivery(record) {
      if (!webhooks.has(record.webhookId)) return;
      let list = deliveries.get(record.webhookId);
      if (list === undefined) {
        list = [];
        deliveries.set(record.webhookId, list);
      }
      list.push(record);
      if (list.length > limit) list.shift();
    },
    listDeliveries(webhookId, max) {
      const list = deliveries.get(webhookId);
      return list === undefined || max < 1 ? [] : list.slice(-max).reverse();
    },
  };
}
