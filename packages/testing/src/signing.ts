import { SIGNATURE_HEADER, sign } from "@optare/webhooks";

export interface SignedDelivery {
  /** The exact body bytes that were signed, as a string. */
  body: string;
  headers: { "content-type": "application/json"; "x-optare-signature": string };
}

/** Serialises `event` once and signs those bytes, as the Optare sender does. */
export function signEvent(event: unknown, secret: string): SignedDelivery {
  const body = typeof event === "string" ? event : JSON.stringify(event);
  return { body, headers: { "content-type": "application/json", [SIGNATURE_HEADER]: sign(body, secret) } };
}

/** A ready `POST` `Request` carrying a signed delivery of `event`. */
export function signedRequest(url: string, event: unknown, secret: string): Request {
  const { body, headers } = signEvent(event, secret);
  return new Request(url, { method: "POST", body, headers });
}
