import { SenderError } from "./errors";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Validates an endpoint URL and returns it normalised. HTTPS only; with `allowInsecure`, plain HTTP
 * is also accepted for loopback hosts (localhost, 127.0.0.1, [::1]) and nothing else.
 */
export function checkEndpointUrl(url: unknown, allowInsecure: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    throw new SenderError("invalid_url", `Not an absolute URL: ${JSON.stringify(url)}.`);
  }
  if (parsed.protocol === "https:") return parsed.href;
  if (parsed.protocol !== "http:") {
    throw new SenderError("invalid_url", `Endpoint URLs must use https: (got ${parsed.protocol}).`);
  }
  if (!allowInsecure) {
    throw new SenderError(
      "insecure_url",
      "Endpoint URLs must use https:. For local development pass `allowInsecure: true` to allow http://localhost.",
    );
  }
  if (!LOOPBACK_HOSTS.has(parsed.hostname)) {
    throw new SenderError(
      "insecure_url",
      `Plain http: is only allowed for localhost, 127.0.0.1 and [::1] (got ${parsed.hostname}); use https:.`,
    );
  }
  return parsed.href;
}
