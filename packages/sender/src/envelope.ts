// The event envelope (SPEC §1): checked, built and serialised once per `emit`; every endpoint and
// every attempt gets these exact bytes.
import type { EventData, EventType, Loose } from "@optare/webhooks";
import type { Clock } from "./clock";
import { checkString, SenderError } from "./errors";
import { createId } from "./ids";

/** The organization an event belongs to; its endpoints receive it. */
export interface OrganizationRef {
  id: string;
  name: string;
}

/** The envelope the sender serialises, signs and posts. */
export interface EventEnvelope<Type extends string = string, Data = Record<string, unknown>> {
  event: Type;
  /** Event time, ISO-8601. */
  timestamp: string;
  id: string;
  data: Data;
  organization: OrganizationRef;
}

/**
 * `EventData<T>` for a catalog event (extra fields allowed, as on the wire: `Loose`), any JSON object for
 * other event types.
 */
export type EmitData<T extends string> = T extends EventType ? Loose<EventData<T>> : Record<string, unknown>;

export interface EmitOptions {
  /** Event id; default a fresh `evt_…`. Emitting twice with the same id and timestamp gives byte-identical duplicates. */
  id?: string;
  /** Event time; default the sender clock's current time. */
  timestamp?: string | Date;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks `emit`'s arguments and returns the envelope with its serialised body. */
export function buildEnvelope<T extends string>(
  type: T,
  data: EmitData<T>,
  organization: OrganizationRef,
  options: EmitOptions,
  clock: Clock,
): { event: EventEnvelope<T, EmitData<T>>; body: string } {
  checkString("The event type", type);
  if (!isPlainObject(data)) throw new SenderError("invalid_argument", "data must be a JSON object.");
  if (!isPlainObject(organization)) {
    throw new SenderError("invalid_argument", "organization must be { id, name }.");
  }
  checkString("organization.id", organization.id);
  if (typeof organization.name !== "string") {
    throw new SenderError("invalid_argument", "organization.name must be a string.");
  }
  const at = options.timestamp ?? new Date(clock.now());
  if (typeof at === "string" && Number.isNaN(Date.parse(at))) {
    throw new SenderError("invalid_argument", "timestamp must be a Date or an ISO-8601 string.");
  }
  const event: EventEnvelope<T, EmitData<T>> = {
    event: type,
    timestamp: typeof at === "string" ? at : at.toISOString(),
    id: options.id === undefined ? createId("evt") : checkString("id", options.id),
    data,
    organization: { id: organization.id, name: organization.name },
  };
  try {
    return { event, body: JSON.stringify(event) };
  } catch (error) {
    throw new SenderError(
      "invalid_argument",
      `data is not serialisable as JSON (${(error as Error).message}).`,
    );
  }
}
