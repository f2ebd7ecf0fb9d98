import { describe, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type {
  ApiKey,
  Catalog,
  EventData,
  EventType,
  Invitation,
  Member,
  OAuthAuthorization,
  OAuthClient,
  OAuthToken,
  Organization,
  Session,
  User,
  UserRef,
} from "./catalog";
import type { OptareEvent } from "./event";
import { type Exact, type Loose, withExtras } from "./types";

/** true when `T` has no index signature at any depth (arrays, nullable and optional fields included). */
type IndexSignatureFree<T> = T extends string | number | boolean | null | undefined
  ? true
  : T extends readonly (infer E)[]
    ? IndexSignatureFree<E>
    : string extends keyof T
      ? false
      : false extends { [K in keyof T]-?: IndexSignatureFree<T[K]> }[keyof T]
        ? false
        : true;

declare const user: User;

describe("exact payload types", () => {
  it("no event's data has an index signature, at any depth", () => {
    expectTypeOf<{ [T in EventType]: IndexSignatureFree<EventData<T>> }[EventType]>().toEqualTypeOf<true>();
    expectTypeOf<IndexSignatureFree<OptareEvent>>().toEqualTypeOf<true>();
    // The zod output of the same schemas does have one: that is what Exact removes.
    expectTypeOf<IndexSignatureFree<z.output<Catalog["user.created"]["data"]>>>().toEqualTypeOf<false>();
  });

  it("names every shared object as an exact type", () => {
    expectTypeOf<
      [
        User,
        UserRef,
        Organization,
        Session,
        Member,
        Invitation,
        OAuthClient,
        OAuthAuthorization,
        OAuthToken,
        ApiKey,
      ]
    >().toEqualTypeOf<
      [
        Exact<z.output<typeof User>>,
        Exact<z.output<typeof UserRef>>,
        Exact<z.output<typeof Organization>>,
        Exact<z.output<typeof Session>>,
        Exact<z.output<typeof Member>>,
        Exact<z.output<typeof Invitation>>,
        Exact<z.output<typeof OAuthClient>>,
        Exact<z.output<typeof OAuthAuthorization>>,
        Exact<z.output<typeof OAuthToken>>,
        Exact<z.output<typeof ApiKey>>,
      ]
    >();
    expectTypeOf<keyof User>().toEqualTypeOf<
      "id" | "email" | "name" | "emailVerified" | "image" | "createdAt" | "updatedAt"
    >();
    expectTypeOf<EventData<"session.created">>().toEqualTypeOf<{ session: Session; user: UserRef }>();
    expectTypeOf<EventData<"oauth.token.issued">>().toEqualTypeOf<{
      token: OAuthToken;
      client: OAuthClient;
      user: UserRef | null;
    }>();
    expectTypeOf<EventData<"api_key.created">["apiKey"]>().toEqualTypeOf<ApiKey>();
  });

  it("keeps optional and nullable fields exactly", () => {
    expectTypeOf<User>().toEqualTypeOf<{
      id: string;
      email: string;
      name: string | null;
      emailVerified: boolean;
      image?: string | null | undefined;
      createdAt: string;
      updatedAt?: string | undefined;
    }>();
    expectTypeOf<ApiKey["expiresAt"]>().toEqualTypeOf<string | null | undefined>();
    expectTypeOf<OAuthToken["scopes"]>().toEqualTypeOf<string[]>();
    expectTypeOf<EventData<"user.updated">["previous"]>().toEqualTypeOf<Partial<User> | undefined>();
    expectTypeOf<EventData<"session.revoked">["revokedBy"]>().toEqualTypeOf<string | null | undefined>();
  });

  it("Exact keeps primitives, arrays, tuples and unions; drops only index signatures", () => {
    expectTypeOf<Exact<string>>().toEqualTypeOf<string>();
    expectTypeOf<Exact<string[] | null>>().toEqualTypeOf<string[] | null>();
    expectTypeOf<Exact<readonly [number, { a: 1; [k: string]: unknown }]>>().toEqualTypeOf<
      readonly [number, { a: 1 }]
    >();
    expectTypeOf<Exact<{ a?: { b: string; [k: string]: unknown }[]; [k: string]: unknown }>>().toEqualTypeOf<{
      a?: { b: string }[];
    }>();
    expectTypeOf<Exact<{ readonly a: 1; [k: number]: string }>>().toEqualTypeOf<{ readonly a: 1 }>();
  });

  it("Loose reads any other field as unknown and keeps the known ones", () => {
    type LooseUser = Loose<User>;
    expectTypeOf<LooseUser["email"]>().toEqualTypeOf<string>();
    expectTypeOf<LooseUser["image"]>().toEqualTypeOf<string | null | undefined>();
    expectTypeOf<LooseUser["plan"]>().toEqualTypeOf<unknown>();
    expectTypeOf<Loose<{ list: { a: string }[] }>["list"][number]["b"]>().toEqualTypeOf<unknown>();
    expectTypeOf<Loose<string | null>>().toEqualTypeOf<string | null>();
    // The zod output is a Loose view of the exact type.
    expectTypeOf<z.output<typeof User>>().toExtend<Loose<User>>();
  });

  it("withExtras returns its argument, typed Loose", () => {
    expectTypeOf(withExtras(user)).toEqualTypeOf<Loose<User>>();
    expectTypeOf(withExtras(user).plan).toEqualTypeOf<unknown>();
    // @ts-expect-error the loose view is for reading
    withExtras(user).plan = "pro";
  });
});
