// Who may talk to the inspector. It listens on loopback, but a web page open in the same browser can
// still send requests to it (cross-site requests) or reach it through a DNS name it rebinds to 127.0.0.1.
// So every request must name the bound host and port in `Host` (no DNS rebinding), and every control
// request (any non-GET, and every /api/ read: the secret, the event stream) must come from the page's
// own origin or from no browser page at all (curl, a sender). No CORS headers are ever sent.
import type { IncomingMessage } from "node:http";
import { InspectorError } from "./errors";

/** The `Host` values that name this server: the address it is bound to, and `localhost`. */
export function allowedHosts(host: string, port: number): Set<string> {
  const bound = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return new Set([bound, `localhost:${port}`]);
}

/** Whether the request is a control request: it must come from the page itself or from no page. */
export function isControl(req: IncomingMessage): boolean {
  return req.method !== "GET" && req.method !== "HEAD" ? true : (req.url ?? "/").startsWith("/api/");
}

/** Why `req` is refused (403), or null when it may go on. */
export function refusal(req: IncomingMessage, hosts: ReadonlySet<string>): InspectorError | null {
  const host = (req.headers.host ?? "").toLowerCase();
  if (!hosts.has(host)) {
    return new InspectorError(
      "host_not_allowed",
      `Host ${JSON.stringify(host)} is not this inspector; open it at http://${[...hosts][0]}/.`,
    );
  }
  if (!isControl(req)) return null;
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return new InspectorError("cross_origin", `Cross-origin requests are refused (Sec-Fetch-Site: ${site}).`);
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    return new InspectorError(
      "cross_origin",
      `Requests from ${origin} are refused: only this page may call it.`,
    );
  }
  return null;
}
