import { describe, expectTypeOf, it } from "vitest";
import type { EventData, EventType } from "./catalog";
import {
  constructEvent,
  isKnownEvent,
  type OptareEvent,
  type UnknownEvent,
  type WebhookEvent,
} from "./event";

declare const received: WebhookEvent;
declare const event: OptareEvent;

describe("event types", () => {
  it("narrows data by the event string", () => {
    if (event.event === "user.created") {
      expectTypeOf(event.data.user.email).toEqualTypeOf<string>();
      expectTypeOf(event.data.user.name).toEqualTypeOf<string | null>();
      expectTypeOf(event.data.user.emailVerified).toEqualTypeOf<boolean>();
    }
    if (event.event === "oauth.token.issued") {
      expectTypeOf(event.data.token.scopes).toEqualTypeOf<string[]>();
      expectTypeOf(event.data.user?.id).toEqualTypeOf<string | undefined>();
    }
    if (event.event === "member.role.changed") {
      expectTypeOf(event.data.previousRole).toEqualTypeOf<string>();
    }
  });

  it("narrows a received event once isKnownEvent has ruled out unknown types", () => {
    if (isKnownEvent(received)) {
      switch (received.event) {
        case "session.revoked":
          expectTypeOf(received.data.revokedBy).toEqualTypeOf<string | null | undefined>();
          break;
        case "2fa.enabled":
          expectTypeOf(received.data.method).toEqualTypeOf<string>();
          break;
      }
    } else {
      expectTypeOf(received).toEqualTypeOf<UnknownEvent>();
      expectTypeOf(received.data).toEqualTypeOf<Record<string, unknown>>();
    }
  });

  it("does not pretend an unchecked event.event === '…' proves the data's shape", () => {
    if (received.event === "user.created") {
      // An unknown event could carry any string, so data stays honest until isKnownEvent.
      expectTypeOf(received).toExtend<WebhookEvent>();
      expectTypeOf<typeof received.data.user>().toEqualTypeOf<unknown>();
    }
  });

  it("keeps unknown fields accessible (open objects)", () => {
    if (event.event === "user.created") {
      expectTypeOf(event.data.user.somethingNew).toEqualTypeOf<unknown>();
    }
  });

  it("OptareEvent<T> is exactly one event", () => {
    expectTypeOf<OptareEvent<"api_key.revoked">["event"]>().toEqualTypeOf<"api_key.revoked">();
    expectTypeOf<OptareEvent<"api_key.revoked">["data"]>().toEqualTypeOf<EventData<"api_key.revoked">>();
    expectTypeOf<OptareEvent<"user.deleted" | "user.created">["event"]>().toEqualTypeOf<
      "user.deleted" | "user.created"
    >();
  });

  it("rejects misspelled event types", () => {
    // @ts-expect-error not an event type
    expectTypeOf<OptareEvent<"user.create">>();
    expectTypeOf<"user.created">().toExtend<EventType>();
    expectTypeOf<"user.create">().not.toExtend<EventType>();
  });

  it("constructEvent returns the honest union", () => {
    expectTypeOf(constructEvent).returns.toEqualTypeOf<WebhookEvent>();
  });
});
