import { describe, expectTypeOf, it } from "vitest";
import type { EventData, EventType } from "./catalog";
import {
  constructEvent,
  isKnownEvent,
  type OptareEvent,
  type UnknownEvent,
  type WebhookEvent,
} from "./event";
import type { Webhooks } from "./index";
import { withExtras } from "./types";

declare const received: WebhookEvent;
declare const event: OptareEvent;
declare const unknownEvent: UnknownEvent;
declare const webhooks: Webhooks;

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

  it("narrows a received event on event.event === '…' alone (an unknown event never has a known type)", () => {
    if (received.event === "user.created") {
      expectTypeOf(received).toEqualTypeOf<OptareEvent<"user.created">>();
      expectTypeOf(received.data.user.email).toEqualTypeOf<string>();
    } else {
      expectTypeOf<UnknownEvent>().toExtend<typeof received>();
      expectTypeOf<Extract<typeof received, { event: "user.created" }>>().toBeNever();
    }
  });

  it("switch on a constructEvent result narrows data per case, no isKnownEvent needed", () => {
    const delivered = constructEvent("{}", "signature", "secret");
    switch (delivered.event) {
      case "user.created":
        expectTypeOf(delivered).toEqualTypeOf<OptareEvent<"user.created">>();
        expectTypeOf(delivered.data).toEqualTypeOf<EventData<"user.created">>();
        expectTypeOf(delivered.data.user.email).toEqualTypeOf<string>();
        break;
      case "session.revoked":
        expectTypeOf(delivered.data.session.ipAddress).toEqualTypeOf<string | null>();
        expectTypeOf(delivered.data.revokedBy).toEqualTypeOf<string | null | undefined>();
        break;
      case "oauth.token.issued":
      case "oauth.client.created":
        expectTypeOf(delivered).toEqualTypeOf<OptareEvent<"oauth.token.issued" | "oauth.client.created">>();
        expectTypeOf(delivered.data.client.redirectUris).toEqualTypeOf<string[]>();
        break;
      default:
        // The unknown event is still here, with the known events no case took.
        expectTypeOf<UnknownEvent>().toExtend<typeof delivered>();
        expectTypeOf<OptareEvent<"user.deleted">>().toExtend<typeof delivered>();
        expectTypeOf(delivered.event).toEqualTypeOf<string>();
        expectTypeOf(delivered.data).toExtend<Record<string, unknown>>();
    }
  });

  it("compares event.event with a type the SDK does not know", () => {
    expectTypeOf(received.event).toEqualTypeOf<string>();
    if (received.event === "billing.invoice.paid") {
      expectTypeOf(received).toExtend<UnknownEvent>();
      expectTypeOf(received.data).toEqualTypeOf<Record<string, unknown>>();
    }
    switch (received.event) {
      case "billing.invoice.paid":
        expectTypeOf(received).toExtend<UnknownEvent>();
        break;
    }
    // An unknown event alone: `event` is a plain string (not `string | undefined`), its fields exact.
    expectTypeOf(unknownEvent.event).toEqualTypeOf<string>();
    expectTypeOf(unknownEvent.id).toEqualTypeOf<string>();
    expectTypeOf(unknownEvent.data).toEqualTypeOf<Record<string, unknown>>();
    if (unknownEvent.event === "billing.invoice.paid") expectTypeOf(unknownEvent).toExtend<UnknownEvent>();
    expectTypeOf<UnknownEvent["event"]>().toEqualTypeOf<string>();
    // @ts-expect-error misspelled envelope field
    unknownEvent.evnt;
    // @ts-expect-error not an envelope field either, even though it starts with "event"
    unknownEvent.eventType;
    const built: UnknownEvent = { event: "billing.invoice.paid", id: "evt_1", timestamp: "", data: {} };
    expectTypeOf(built).toExtend<WebhookEvent>();
  });

  it("types the handlers of on, onAny and onUnknown", () => {
    webhooks.on("user.created", (created) => {
      expectTypeOf(created).toEqualTypeOf<OptareEvent<"user.created">>();
      expectTypeOf(created.data.user.email).toEqualTypeOf<string>();
      // @ts-expect-error misspelled payload field
      created.data.user.emial;
    });
    webhooks.on(["member.added", "member.removed"], (member) => {
      expectTypeOf(member.event).toEqualTypeOf<"member.added" | "member.removed">();
      expectTypeOf(member.data.member.role).toEqualTypeOf<string>();
    });
    webhooks.onAny((any) => {
      expectTypeOf(any).toEqualTypeOf<WebhookEvent>();
      if (any.event === "api_key.created") expectTypeOf(any.data.apiKey.name).toEqualTypeOf<string>();
    });
    webhooks.onUnknown((unknown) => {
      expectTypeOf(unknown).toEqualTypeOf<UnknownEvent>();
      expectTypeOf(unknown.event).toEqualTypeOf<string>();
      expectTypeOf(unknown.event === "billing.invoice.paid").toEqualTypeOf<boolean>();
    });
  });

  it("makes a misspelled field a compile error, at every depth", () => {
    if (event.event === "user.created") {
      // @ts-expect-error misspelled: email
      event.data.user.emial;
      // @ts-expect-error not in the catalog: read extra fields through withExtras
      event.data.user.somethingNew;
    }
    if (event.event === "session.created") {
      // @ts-expect-error misspelled: ipAddress
      event.data.session.ipAdress;
      // @ts-expect-error misspelled: user
      event.data.usr;
    }
    if (event.event === "user.updated") {
      // @ts-expect-error misspelled, inside an optional partial object
      event.data.previous?.nmae;
    }
    if (event.event === "oauth.token.issued") {
      // @ts-expect-error misspelled, inside a nullable object
      event.data.user?.emial;
      // @ts-expect-error misspelled, an array's method
      event.data.token.scopes.lenght;
    }
    // @ts-expect-error misspelled envelope field
    event.timestmp;
    // @ts-expect-error the envelope's organization is exact too
    event.organization?.slug;
    // @ts-expect-error misspelled envelope field, on the received union
    received.evnt;
  });

  it("reaches extra wire fields through withExtras", () => {
    if (event.event === "user.created") {
      const loose = withExtras(event);
      expectTypeOf(loose.data.user.somethingNew).toEqualTypeOf<unknown>();
      expectTypeOf(loose.data.user.email).toEqualTypeOf<string>();
      expectTypeOf(loose.data.user.name).toEqualTypeOf<string | null>();
      expectTypeOf(loose.data.user.image).toEqualTypeOf<string | null | undefined>();
      expectTypeOf(loose.deliveryAttempt).toEqualTypeOf<unknown>();
      expectTypeOf(loose.event).toEqualTypeOf<"user.created">();
    }
    if (event.event === "session.created") {
      expectTypeOf(withExtras(event.data.session).mfa).toEqualTypeOf<unknown>();
      expectTypeOf(withExtras(event).organization?.plan).toEqualTypeOf<unknown>();
    }
    if (event.event === "oauth.token.issued") {
      expectTypeOf(withExtras(event).data.user?.locale).toEqualTypeOf<unknown>();
      expectTypeOf(withExtras(event).data.token.scopes).toEqualTypeOf<string[]>();
    }
    // On the union too: narrowing still works on the loose view.
    const loose = withExtras(received);
    if (loose.event === "2fa.enabled") expectTypeOf(loose.data.method).toEqualTypeOf<string>();
  });

  it("keeps the envelope's optional organization", () => {
    expectTypeOf(event.organization).toEqualTypeOf<{ id: string; name: string } | undefined>();
    expectTypeOf(received.organization).toEqualTypeOf<{ id: string; name: string } | undefined>();
    expectTypeOf(event.id).toEqualTypeOf<string>();
    expectTypeOf(event.timestamp).toEqualTypeOf<string>();
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
