// The event catalog: the one place the 27 Optare event types are defined. Schemas, TypeScript types,
// EVENT_TYPES, the fixtures' shape and the README's event table are all derived from it.
import * as z from "zod/mini";
// Named imports from zod's core: `z.core.$ZodObjectJIT` would keep all of the core in a bundle.
import { $constructor, $ZodObjectJIT } from "zod/v4/core";
import type { Exact } from "./types";

/**
 * zod/mini's object, parsed by zod's JIT-compiled fast path where the runtime allows `new Function`
 * (`$ZodObjectJIT`, as classic zod's objects are; zod/mini leaves it out to stay small). Parsing a valid
 * user.created costs 91–144 ns with it and 775–1134 ns without (Node 20, bench/harness.mjs `compare`), on a
 * ~5 µs `constructEvent`. Where eval is refused (Cloudflare Workers) zod falls back to the plain parser.
 */
type Init = { init(inst: unknown, def: unknown): void };
const JitObject = $constructor("ZodMiniObject", (inst: z.ZodMiniObject, def: z.core.$ZodObjectDef) => {
  ($ZodObjectJIT as Init).init(inst, def);
  (z.ZodMiniType as Init).init(inst, def);
  Object.defineProperty(inst, "shape", { get: () => def.shape });
});

// Every object is open: fields Optare adds later are kept, never rejected.
function open<Shape extends z.core.$ZodLooseShape>(shape: Shape): z.ZodMiniObject<Shape, z.core.$loose> {
  return new JitObject({ type: "object", shape, catchall: unknown }) as never;
}
// Leaf schemas are immutable, so each is made once and shared: a zod/mini schema costs a few µs to build,
// which at import time is a cold start's cost (bench/cold-start.bench.mjs).
const string = z.string();
const unknown = z.unknown();
const optionalString = z.optional(string);
const strings = z.array(string);
const timestamp = string;
const optionalTimestamp = z.optional(timestamp);
const nullableString = z.nullable(string);
const optionalNullableString = z.optional(nullableString);

export const User = open({
  id: string,
  email: string,
  name: nullableString,
  emailVerified: z.boolean(),
  image: optionalNullableString,
  createdAt: timestamp,
  updatedAt: optionalTimestamp,
});
export const UserRef = open({ id: string, email: string, name: optionalNullableString });
export const Organization = open({
  id: string,
  name: string,
  slug: optionalString,
  createdAt: optionalTimestamp,
});
export const Session = open({
  id: string,
  userId: string,
  createdAt: timestamp,
  expiresAt: timestamp,
  ipAddress: nullableString,
  userAgent: nullableString,
});
export const Member = open({
  id: string,
  userId: string,
  organizationId: string,
  role: string,
  createdAt: optionalTimestamp,
});
export const Invitation = open({
  id: string,
  email: string,
  role: string,
  invitedBy: string,
  expiresAt: optionalTimestamp,
});
export const OAuthClient = open({
  id: string,
  name: string,
  redirectUris: strings,
  createdAt: optionalTimestamp,
});
export const OAuthAuthorization = open({
  id: string,
  clientId: string,
  userId: string,
  scopes: strings,
  createdAt: optionalTimestamp,
});
/** An issued token's metadata. Optare never sends the token value. */
export const OAuthToken = open({
  id: string,
  clientId: string,
  userId: nullableString,
  scopes: strings,
  grantType: string,
  expiresAt: timestamp,
});
export const ApiKey = open({
  id: string,
  name: string,
  prefix: optionalString,
  createdBy: optionalString,
  createdAt: optionalTimestamp,
  expiresAt: optionalNullableString,
});

// Each shared object as an exact TypeScript type, named like its schema (`function greet(user: User)`):
// the declared fields only, no `[k: string]: unknown`, so a misspelled field does not compile.
export type User = Exact<z.output<typeof User>>;
export type UserRef = Exact<z.output<typeof UserRef>>;
export type Organization = Exact<z.output<typeof Organization>>;
export type Session = Exact<z.output<typeof Session>>;
export type Member = Exact<z.output<typeof Member>>;
export type Invitation = Exact<z.output<typeof Invitation>>;
export type OAuthClient = Exact<z.output<typeof OAuthClient>>;
export type OAuthAuthorization = Exact<z.output<typeof OAuthAuthorization>>;
export type OAuthToken = Exact<z.output<typeof OAuthToken>>;
export type ApiKey = Exact<z.output<typeof ApiKey>>;

export type EventGroup = "User" | "Session" | "Organization" | "Member" | "OAuth" | "Security";

export interface EventDefinition<Data extends z.ZodMiniType = z.ZodMiniType> {
  readonly group: EventGroup;
  readonly description: string;
  /** false for the counterparts the SDK adds to Optare's published list. */
  readonly published: boolean;
  readonly data: Data;
}

function define<Shape extends z.core.$ZodLooseShape>(
  group: EventGroup,
  description: string,
  shape: Shape,
  published = true,
): EventDefinition<z.ZodMiniObject<Shape, z.core.$loose>> {
  // Built on first use: a process that handles one event type (a serverless instance) builds one schema,
  // not 27. With the shared leaves, this keeps a cold start's import under the allocation that triggered
  // its first garbage collection, a 2–4 ms scavenge (node --trace-gc, bench/cold-start.bench.mjs).
  let data: z.ZodMiniObject<Shape, z.core.$loose> | undefined;
  return {
    group,
    description,
    published,
    get data() {
      data ??= open(shape);
      return data;
    },
  };
}

const memberOf = { member: Member, user: UserRef, organization: Organization };
const grant = { authorization: OAuthAuthorization, user: UserRef, client: OAuthClient };

export const catalog = {
  "user.created": define("User", "New user registered", { user: User }),
  "user.updated": define("User", "User profile changed", {
    user: User,
    previous: z.optional(z.partial(User)),
  }),
  "user.deleted": define("User", "User account deleted", { user: UserRef }),
  "user.email.verified": define("User", "Email verification completed", { user: User }),
  "user.password.changed": define("User", "Password was changed", { user: UserRef }),
  "session.created": define("Session", "User signed in", { session: Session, user: UserRef }),
  "session.revoked": define("Session", "Session was terminated", {
    session: Session,
    user: UserRef,
    revokedBy: optionalNullableString,
  }),
  "session.expired": define("Session", "Session naturally expired", { session: Session, user: UserRef }),
  "organization.created": define("Organization", "New organization created", { organization: Organization }),
  "organization.updated": define("Organization", "Organization settings changed", {
    organization: Organization,
    previous: z.optional(z.partial(Organization)),
  }),
  "organization.deleted": define("Organization", "Organization was deleted", { organization: Organization }),
  "member.added": define("Member", "User added to organization", memberOf),
  "member.removed": define("Member", "User removed from organization", memberOf),
  "member.role.changed": define("Member", "Member role updated", { ...memberOf, previousRole: string }),
  "member.invitation.sent": define("Member", "Invitation email sent", {
    invitation: Invitation,
    organization: Organization,
  }),
  "member.invitation.accepted": define("Member", "Invitation accepted", {
    invitation: Invitation,
    user: UserRef,
    organization: Organization,
  }),
  "member.invitation.expired": define("Member", "Invitation expired", {
    invitation: Invitation,
    organization: Organization,
  }),
  "member.invitation.revoked": define(
    "Member",
    "Invitation withdrawn before it was accepted",
    { invitation: Invitation, organization: Organization, revokedBy: optionalString },
    false,
  ),
  "oauth.client.created": define("OAuth", "OAuth client registered", { client: OAuthClient }),
  "oauth.client.deleted": define("OAuth", "OAuth client removed", { client: OAuthClient }),
  "oauth.authorization.granted": define("OAuth", "User authorized an app", grant),
  "oauth.authorization.revoked": define("OAuth", "User withdrew an app's authorization", grant, false),
  "oauth.token.issued": define("OAuth", "Access token generated", {
    token: OAuthToken,
    client: OAuthClient,
    user: z.nullable(UserRef),
  }),
  "2fa.enabled": define("Security", "Two-factor authentication enabled", {
    user: UserRef,
    method: string,
  }),
  "2fa.disabled": define("Security", "Two-factor authentication disabled", {
    user: UserRef,
    method: string,
  }),
  "api_key.created": define("Security", "API key generated", { apiKey: ApiKey }),
  "api_key.revoked": define("Security", "API key revoked", { apiKey: ApiKey }),
} as const;

export type Catalog = typeof catalog;
/** One of the 27 known event type strings. */
export type EventType = keyof Catalog;
/**
 * The validated `data` of an event type, exact: only the catalog's fields, so a misspelled one
 * (`data.user.emial`) is a compile error. Fields Optare adds later are still there at runtime (every
 * schema is a `z.looseObject`); read them through `withExtras`.
 */
export type EventData<T extends EventType> = Exact<z.output<Catalog[T]["data"]>>;

/** All 27 known event types, in catalog order. */
export const EVENT_TYPES = Object.keys(catalog) as EventType[];

/** Narrowing check: is this string one of the 27 known event types? */
export function isEventType(value: unknown): value is EventType {
  return typeof value === "string" && Object.hasOwn(catalog, value);
}

/** The zod schema of each event type's `data` (each built on first use, like `catalog[type].data`). */
export const dataSchemas = Object.defineProperties(
  {},
  Object.fromEntries(EVENT_TYPES.map((type) => [type, { enumerable: true, get: () => catalog[type].data }])),
) as { readonly [T in EventType]: Catalog[T]["data"] };
