import { createWebhooks, type OptareEvent, type WebhooksOptions } from "@optare/webhooks";
import { createEvent, fixtures, signEvent } from "@optare/webhooks-testing";
import { beforeEach, describe, expect, it, type Mock, vi } from "vitest";

// --- Your application code (in a real app, its own module, e.g. src/webhooks.ts) --------------------
// The receiver is built by a function that takes its dependencies, so a test can pass fakes. The app
// calls it as createOptareWebhooks(crm, { secret: process.env.OPTARE_WEBHOOK_SECRET! }).
interface Crm {
  upsertContact(email: string, name: string | null): Promise<void>;
}

function createOptareWebhooks(crm: Crm, options: WebhooksOptions) {
  const webhooks = createWebhooks(options);
  webhooks.on("user.created", async (event) => {
    await crm.upsertContact(event.data.user.email, event.data.user.name);
  });
  return webhooks;
}

// --- The tests ---------------------------------------------------------------------------------------
const secret = "0123456789abcdef".repeat(4); // any string; Optare's are 64 hex characters
const url = "http://localhost/webhooks/optare"; // handle() never looks at the URL

/** A POST carrying `event`, signed over the exact bytes sent, the way Optare signs. */
function delivery(event: OptareEvent, signingSecret = secret): Request {
  const { body, headers } = signEvent(event, signingSecret);
  return new Request(url, { method: "POST", body, headers });
}

describe("Optare webhooks", () => {
  let crm: { upsertContact: Mock<Crm["upsertContact"]> };
  let webhooks: ReturnType<typeof createOptareWebhooks>;

  beforeEach(() => {
    crm = { upsertContact: vi.fn<Crm["upsertContact"]>(async () => {}) };
    // logger: false keeps the receiver's failure lines (the 500 and the 401 below) off the test output.
    webhooks = createOptareWebhooks(crm, { secret, logger: false });
  });

  it("syncs a new user to the CRM", async () => {
    // Fixture data, a fresh evt_ id, and timestamp = now (so it passes the 24 h age check).
    const response = await webhooks.handle(delivery(createEvent("user.created")));

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true });
    expect(crm.upsertContact).toHaveBeenCalledWith("john@example.com", "John Doe");
  });

  it("handles a user without a name", async () => {
    const user = { ...fixtures["user.created"].user, name: null };
    const response = await webhooks.handle(delivery(createEvent("user.created", { data: { user } })));

    expect(response.status).toBe(200);
    expect(crm.upsertContact).toHaveBeenCalledWith("john@example.com", null);
  });

  it("runs the handler once when Optare delivers the same event twice", async () => {
    const event = createEvent("user.created");
    await webhooks.handle(delivery(event));
    const duplicate = await webhooks.handle(delivery(event)); // same id, same bytes

    expect(duplicate.status).toBe(200);
    expect(await duplicate.json()).toEqual({ received: true, duplicate: true });
    expect(crm.upsertContact).toHaveBeenCalledTimes(1);
  });

  it("answers 500 when the handler fails, so Optare's retry runs it again", async () => {
    crm.upsertContact.mockRejectedValueOnce(new Error("CRM unavailable"));
    const event = createEvent("user.created");

    expect((await webhooks.handle(delivery(event))).status).toBe(500);
    expect((await webhooks.handle(delivery(event))).status).toBe(200); // the retry
    expect(crm.upsertContact).toHaveBeenCalledTimes(2);
  });

  it("rejects a delivery signed with another secret, without running the handler", async () => {
    const response = await webhooks.handle(delivery(createEvent("user.created"), "another-secret"));

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "signature_mismatch" } });
    expect(crm.upsertContact).not.toHaveBeenCalled();
  });
});
