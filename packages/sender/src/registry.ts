// The endpoint registry (SPEC §5): endpoints per organization, each with a fresh 32-byte secret.
import { randomBytes } from "node:crypto";
import type { Clock } from "./clock";
import { checkString, SenderError } from "./errors";
import { createId } from "./ids";
import type { SenderStore, Webhook } from "./store";
import { checkEndpointUrl } from "./url";

export interface CreateWebhookOptions {
  /** Use this secret instead of a fresh one (e.g. the secret a receiver under test is configured with). */
  secret?: string;
}

export interface Registry {
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
}

export interface RegistryContext {
  store: SenderStore;
  clock: Clock;
  allowInsecure: boolean;
  /** Throws `sender_closed` once the sender is closed. */
  assertOpen(): void;
  /** Drops the pending retries of a deleted endpoint. */
  cancelRetries(webhookId: string): void;
}

export function createRegistry({
  store,
  clock,
  allowInsecure,
  assertOpen,
  cancelRetries,
}: RegistryContext): Registry {
  return {
    async createWebhook(organizationId, url, events, options = {}) {
      assertOpen();
      checkString("organizationId", organizationId);
      const href = checkEndpointUrl(url, allowInsecure);
      if (!Array.isArray(events) || events.length === 0) {
        throw new SenderError("invalid_argument", "events must be a non-empty array of event types.");
      }
      for (const event of events) checkString("Every event type", event);
      const secret =
        options.secret === undefined
          ? randomBytes(32).toString("hex")
          : checkString("secret", options.secret);
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
      cancelRetries(id);
      return store.deleteWebhook(id);
    },

    async setActive(id, isActive) {
      if (typeof isActive !== "boolean")
        throw new SenderError("invalid_argument", "isActive must be a boolean.");
      const found = await store.getWebhook(id);
      if (found === null) throw new SenderError("webhook_not_found", `No webhook endpoint with id ${id}.`);
      const webhook = { ...found, isActive };
      await store.saveWebhook(webhook);
      return webhook;
    },
  };
}
