// The two sample payloads of Optare's webhook documentation, byte for byte: the SDK must accept them
// unchanged (SPEC §2). For tests of your own handlers against what the docs show.

/** The documentation's `user.created` sample. */
export const DOCS_USER_CREATED = `{
  "event": "user.created",
  "timestamp": "2025-11-11T10:30:00Z",
  "id": "evt_1a2b3c4d",
  "data": {
    "user": {
      "id": "user_123",
      "email": "john@example.com",
      "name": "John Doe",
      "emailVerified": false,
      "createdAt": "2025-11-11T10:30:00Z"
    }
  },
  "organization": {
    "id": "org_abc",
    "name": "Acme Inc"
  }
}`;

/**
 * The documentation's `member.invitation.accepted` sample. It has no top-level `organization`: the docs
 * carry it only inside `data`.
 */
export const DOCS_INVITATION_ACCEPTED = `{
  "event": "member.invitation.accepted",
  "timestamp": "2025-11-11T14:30:00Z",
  "id": "evt_5e6f7g8h",
  "data": {
    "invitation": {
      "id": "inv_xyz",
      "email": "jane@example.com",
      "role": "member",
      "invitedBy": "user_owner"
    },
    "user": {
      "id": "user_456",
      "email": "jane@example.com",
      "name": "Jane Smith"
    },
    "organization": {
      "id": "org_abc",
      "name": "Acme Inc"
    }
  }
}`;
