import { createWebhooks } from "@optare/webhooks";
import { createEvent, signEvent } from "@optare/webhooks-testing";
import { describe, expect, it, vi } from "vitest";
import { defineWebhooks } from "./shared";

const secret = "0123456789abcdef".repeat(4);

describe("defineWebhooks", () => {
  it("gives every bundle that defines it the same receiver, created on first use", async () => {
    const key = `test-${Math.random()}`;
    const handler = vi.fn();
    const create = vi.fn(() => createWebhooks({ secret, logger: false }).onAny(handler));
    // Two bundles (App Router, Pages Router) each evaluate lib/webhooks.ts: two calls, one receiver.
    const appRouter = defineWebhooks(create, { key });
    const pagesRouter = defineWebhooks(create, { key });
    expect(create).not.toHaveBeenCalled(); // a build that loads the modules creates nothing

    const { body, headers } = signEvent(createEvent("user.created"), secret);
    const first = await appRouter.handle(new Request("http://localhost/", { method: "POST", body, headers }));
    const duplicate = await pagesRouter.receive({
      method: "POST",
      header: (name) => headers[name as keyof typeof headers] ?? null,
      body,
    });
    expect(first.status).toBe(200);
    expect(JSON.parse(duplicate.body)).toEqual({ received: true, duplicate: true }); // one store
    expect(handler).toHaveBeenCalledTimes(1); // handlers registered once
    expect(create).toHaveBeenCalledTimes(1);
    expect(appRouter.get()).toBe(pagesRouter.get());
  });

  it("keeps receivers with different keys apart", () => {
    const a = defineWebhooks(() => createWebhooks({ secret, logger: false }), { key: `a-${Math.random()}` });
    const b = defineWebhooks(() => createWebhooks({ secret, logger: false }), { key: `b-${Math.random()}` });
    expect(a.get()).not.toBe(b.get());
  });
});
