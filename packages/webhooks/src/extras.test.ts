import { createEvent } from "@optare/webhooks-testing";
import { describe, expect, it } from "vitest";
import { constructEvent } from "./event";
import { withExtras } from "./types";
import { sign } from "./verify";

const secret = "0123456789abcdef".repeat(4);
const now = Date.parse("2025-11-11T12:00:00Z");

/** Delivers `value` as Optare would: serialised, signed, then verified and parsed by constructEvent. */
function deliver(value: unknown) {
  const body = JSON.stringify(value);
  return constructEvent(body, sign(body, secret), secret, { now: () => now });
}

describe("withExtras", () => {
  it("returns its argument itself: no copy, nothing added or removed", () => {
    const value = { id: "user_1", plan: "pro" };
    expect(withExtras(value)).toBe(value);
    expect(withExtras(null)).toBe(null);
    expect(withExtras("user.created")).toBe("user.created");
  });

  it("reaches the fields Optare sends beyond the catalog, at every level", () => {
    const event = createEvent("session.created", { timestamp: new Date(now) });
    const received = deliver({
      ...event,
      deliveryAttempt: 2,
      organization: { ...event.organization, plan: "pro" },
      data: { ...event.data, geo: "FR", session: { ...event.data.session, mfa: true } },
    });

    if (received.event !== "session.created") throw new Error("expected session.created");
    const loose = withExtras(received);
    expect(loose.deliveryAttempt).toBe(2);
    expect(loose.organization?.plan).toBe("pro");
    expect(loose.data.geo).toBe("FR");
    expect(loose.data.session.mfa).toBe(true);
    expect(withExtras(received.data.session).mfa).toBe(true);
    // The known fields are the same values, typed as before.
    expect(loose.data.session.id).toBe(event.data.session.id);
    expect(loose.data.user.email).toBe(event.data.user.email);
  });

  it("reads an absent extra field as undefined", () => {
    const received = deliver(createEvent("user.created", { timestamp: new Date(now) }));
    if (received.event !== "user.created") throw new Error("expected user.created");
    expect(withExtras(received).data.user).not.toHaveProperty("plan");
    expect(withExtras(received).data.user.plan).toBeUndefined();
  });
});
