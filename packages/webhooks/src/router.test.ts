import { createEvent } from "@optare/webhooks-testing";
import { describe, expect, it } from "vitest";
import { createWebhooks } from "./receiver";
import { createRouter } from "./router";

describe("createRouter: the handlers without HTTP", () => {
  it("runs the type's handlers, then onAny, in registration order; unknown types go to onUnknown", async () => {
    const calls: string[] = [];
    const router = createRouter()
      .on("user.created", (event) => {
        calls.push(`created ${event.data.user.email}`);
      })
      .on(["user.created", "user.deleted"], (event) => {
        calls.push(`either ${event.event}`);
      })
      .onUnknown((event) => {
        calls.push(`unknown ${event.event}`);
      })
      .onAny((event) => {
        calls.push(`any ${event.event}`);
      });
    await router.dispatch(createEvent("user.created"), {});
    await router.dispatch({ ...createEvent("user.deleted"), event: "user.teleported" }, {});
    expect(calls).toEqual([
      `created ${createEvent("user.created").data.user.email}`,
      "either user.created",
      "any user.created",
      "unknown user.teleported",
      "any user.teleported",
    ]);
  });

  it("rejects with the handler's error and stops there", async () => {
    const calls: string[] = [];
    const router = createRouter()
      .on("user.created", () => {
        throw new Error("first");
      })
      .onAny(() => {
        calls.push("any");
      });
    await expect(router.dispatch(createEvent("user.created"), {})).rejects.toThrow("first");
    expect(calls).toEqual([]);
  });

  it("is what a receiver is: a stored event replays through the same registrations, with no request", async () => {
    const seen: (string | undefined)[] = [];
    const webhooks = createWebhooks({ secret: "0123456789abcdef".repeat(4), logger: false });
    webhooks.on("session.created", (event, context) => {
      seen.push(`${event.id} via ${context.request ? "http" : "replay"}`);
    });
    const stored = createEvent("session.created");
    await webhooks.dispatch(stored, {});
    expect(seen).toEqual([`${stored.id} via replay`]);
  });

  it("shields the caller from an onError hook that throws", () => {
    const reported: string[] = [];
    const router = createRouter()
      .onError(() => {
        throw new Error("broken hook");
      })
      .onError((error) => {
        reported.push(error.code);
      });
    expect(() =>
      router.reportError(Object.assign(new Error("x"), { code: "handler_failed" }) as never, {}),
    ).not.toThrow();
    expect(reported).toEqual(["handler_failed"]);
  });
});
