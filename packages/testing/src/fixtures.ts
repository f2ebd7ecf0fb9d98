import type { EventData, EventType, OptareEvent } from "@optare/webhooks";

const at = "2025-11-11T10:30:00Z";
const later = "2025-11-12T10:30:00Z";
const organization = { id: "org_abc", name: "Acme Inc", slug: "acme", createdAt: "2025-01-01T00:00:00Z" };
const user = {
  id: "user_123",
  email: "john@example.com",
  name: "John Doe",
  emailVerified: false,
  image: null,
  createdAt: at,
};
const userRef = { id: "user_123", email: "john@example.com", name: "John Doe" };
const session = {
  id: "sess_789",
  userId: "user_123",
  createdAt: at,
  expiresAt: later,
  ipAddress: "203.0.113.7",
  userAgent: "Mozilla/5.0",
};
const member = { id: "mem_42", userId: "user_123", organizationId: "org_abc", role: "member", createdAt: at };
const invitation = {
  id: "inv_xyz",
  email: "jane@example.com",
  role: "member",
  invitedBy: "user_owner",
  expiresAt: later,
};
const client = {
  id: "client_1",
  name: "Reporting App",
  redirectUris: ["https://app.example.com/cb"],
  createdAt: at,
};
const authorization = {
  id: "authz_1",
  clientId: "client_1",
  userId: "user_123",
  scopes: ["openid", "email"],
  createdAt: at,
};
const apiKey = {
  id: "key_1",
  name: "CI deploys",
  prefix: "opt_live_ab",
  createdBy: "user_123",
  createdAt: at,
  expiresAt: null,
};

/**
 * A valid `data` payload for every event type. The mapped type makes the compiler insist on exactly
 * one entry per catalog event, each matching that event's schema.
 */
export const fixtures: { readonly [T in EventType]: EventData<T> } = {
  "user.created": { user },
  "user.updated": {
    user: { ...user, name: "John Q. Doe", updatedAt: later },
    previous: { name: "John Doe" },
  },
  "user.deleted": { user: userRef },
  "user.email.verified": { user: { ...user, emailVerified: true, updatedAt: later } },
  "user.password.changed": { user: userRef },
  "session.created": { session, user: userRef },
  "session.revoked": { session, user: userRef, revokedBy: "user_admin" },
  "session.expired": { session, user: userRef },
  "organization.created": { organization },
  "organization.updated": {
    organization: { ...organization, name: "Acme Corp" },
    previous: { name: "Acme Inc" },
  },
  "organization.deleted": { organization },
  "member.added": { member, user: userRef, organization },
  "member.removed": { member, user: userRef, organization },
  "member.role.changed": {
    member: { ...member, role: "admin" },
    user: userRef,
    organization,
    previousRole: "member",
  },
  "member.invitation.sent": { invitation, organization },
  "member.invitation.accepted": {
    invitation,
    user: { id: "user_456", email: "jane@example.com", name: "Jane Smith" },
    organization,
  },
  "member.invitation.expired": { invitation, organization },
  "member.invitation.revoked": { invitation, organization, revokedBy: "user_owner" },
  "oauth.client.created": { client },
  "oauth.client.deleted": { client },
  "oauth.authorization.granted": { authorization, user: userRef, client },
  "oauth.authorization.revoked": { authorization, user: userRef, client },
  "oauth.token.issued": {
    token: {
      id: "tok_1",
      clientId: "client_1",
      userId: "user_123",
      scopes: ["openid"],
      grantType: "authorization_code",
      expiresAt: later,
    },
    client,
    user: userRef,
  },
  "2fa.enabled": { user: userRef, method: "totp" },
  "2fa.disabled": { user: userRef, method: "totp" },
  "api_key.created": { apiKey },
  "api_key.revoked": { apiKey },
};

let counter = 0;

export interface CreateEventOptions<T extends EventType> {
  /** Replaces the fixture's `data` (merged shallowly over it). */
  data?: Partial<EventData<T>>;
  id?: string;
  /** Event time; defaults to now, so the event passes the receiver's age check. */
  timestamp?: string | Date;
  organization?: { id: string; name: string };
}

/** A complete, valid event envelope of type `type`, built from its fixture. */
export function createEvent<T extends EventType>(
  type: T,
  options: CreateEventOptions<T> = {},
): OptareEvent<T> {
  const timestamp = options.timestamp ?? new Date();
  return {
    event: type,
    timestamp: typeof timestamp === "string" ? timestamp : timestamp.toISOString(),
    id: options.id ?? `evt_${Date.now().toString(36)}${(counter++).toString(36).padStart(4, "0")}`,
    data: { ...fixtures[type], ...options.data } as EventData<T>,
    organization: options.organization ?? { id: organization.id, name: organization.name },
  } as OptareEvent<T>;
}
