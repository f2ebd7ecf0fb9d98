// The event catalog: the one place the 27 Optare event types are defined. Schemas, TypeScript types,
// EVENT_TYPES, the fixtures' shape and the README's event table are all derived from it.
import { z } from "zod";
import type { Exact } from "./types";

// Every object is open: fields Optare adds later are kept, never rejected.
const open = z.looseObject;
const timestamp = z.string();
const nullableString = z.string().nullable();

export const User = open({
  id: z.string(),
  email: z.string(),
  name: nullableString,
  emailVerified: z.boolean(),
  image: nullableString.optional(),
  createdAt: timestamp,
  updatedAt: timestamp.optional(),
});
export const UserRef = open({ id: z.string(), email: z.string(), name: nullableString.optional() });
export const Organization = open({
  id: z.string(),
  name: z.string(),
  slug: z.string().optional(),
  createdAt: timestamp.optional(),
});
export const Session = open({
  id: z.string(),
  userId: z.string(),
  createdAt: timestamp,
  expiresAt: timestamp,
  ipAddress: nullableString,
  userAgent: nullableString,
});
export const Member = open({
  id: z.string(),
  userId: z.string(),
  organizationId: z.string(),
  role: z.string(),
  createdAt: timestamp.optional(),
});
export const Invitation = open({
  id: z.string(),
  email: z.string(),
  role: z.string(),
  invitedBy: z.string(),
  expiresAt: timestamp.optional(),
});
export const OAuthClient = open({
  id: z.string(),
  name: z.string(),
  redirectUris: z.array(z.string()),
  createdAt: timestamp.optional(),
});
export const OAuthAuthorization = open({
  id: z.string(),
  clientId: z.string(),
  userId: z.string(),
  scopes: z.array(z.string()),
  createdAt: timestamp.optional(),
});
/** An issued token's metadata. Optare never sends the token value. */
export const OAuthToken = open({
  id: z.string(),
  clientId: z.string(),
  userId: nullableString,
  scopes: z.array(z.string()),
  grantType: z.string(),
  expiresAt: timestamp,
});
export const ApiKey = open({
  id: z.string(),
  name: z.string(),
  prefix: z.string().optional(),
  createdBy: z.string().optional(),
  createdAt: timestamp.optional(),
  expiresAt: nullableString.optional(),
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

export interface EventDefinition<Data extends z.ZodType = z.ZodType> {
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
): EventDefinition<z.ZodObject<Shape, z.core.$loose>> {
  return { group, description, published, data: open(shape) };
}

const memberOf = { member: Member, user: UserRef, organization: Organization };
const grant = { authorization: OAuthAuthorization, user: UserRef, client: OAuthClient };

export const catalog = {
  "user.created": define("User", "New user registered", { user: User }),
  "user.updated": define("User", "User profile changed", { user: User, previous: User.partial().optional() }),
  "user.deleted": define("User", "User account deleted", { user: UserRef }),
  "user.email.verified": define("User", "Email verification completed", { user: User }),
  "user.password.changed": define("User", "Password was changed", { user: UserRef }),
  "session.created": define("Session", "User signed in", { session: Session, user: UserRef }),
  "session.revoked": define("Session", "Session was terminated", {
    session: Session,
    user: UserRef,
    revokedBy: nullableString.optional(),
  }),
  "session.expired": define("Session", "Session naturally expired", { session: Session, user: UserRef }),
  "organization.created": define("Organization", "New organization created", { organization: Organization }),
  "organization.updated": define("Organization", "Organization settings changed", {
    organization: Organization,
    previous: Organization.partial().optional(),
  }),
  "organization.deleted": define("Organization", "Organization was deleted", { organization: Organization }),
  "member.added": define("Member", "User added to organization", memberOf),
  "member.removed": define("Member", "User removed from organization", memberOf),
  "member.role.changed": define("Member", "Member role updated", { ...memberOf, previousRole: z.string() }),
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
    { invitation: Invitation, organization: Organization, revokedBy: z.string().optional() },
    false,
  ),
  "oauth.client.created": define("OAuth", "OAuth client registered", { client: OAuthClient }),
  "oauth.client.deleted": define("OAuth", "OAuth client removed", { client: OAuthClient }),
  "oauth.authorization.granted": define("OAuth", "User authorized an app", grant),
  "oauth.authorization.revoked": define("OAuth", "User withdrew an app's authorization", grant, false),
  "oauth.token.issued": define("OAuth", "Access token generated", {
    token: OAuthToken,
    client: OAuthClient,
    user: UserRef.nullable(),
  }),
  "2fa.enabled": define("Security", "Two-factor authentication enabled", {
    user: UserRef,
    method: z.string(),
  }),
  "2fa.disabled": define("Security", "Two-factor authentication disabled", {
    user: UserRef,
    method: z.string(),
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

/** The zod schema of each event type's `data`. */
export const dataSchemas = Object.fromEntries(EVENT_TYPES.map((type) => [type, catalog[type].data])) as {
  readonly [T in EventType]: Catalog[T]["data"];
};
