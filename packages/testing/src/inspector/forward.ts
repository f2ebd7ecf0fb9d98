// Capture mode's forwarding: the exact bytes received, with the same Content-Type and signature, to the
// developer's app; its answer comes back to be shown and relayed to the original sender.
import { connect } from "node:net";
import { SIGNATURE_HEADER } from "@optare/webhooks";
import { InspectorError } from "./errors";

/** As the sender's per-attempt timeout (SPEC §1). */
const FORWARD_TIMEOUT_MS = 30_000;

export interface ForwardAnswer {
  status: number;
  contentType: string | null;
  body: string;
  durationMs: number;
}

export async function forward(
  url: string,
  body: Buffer,
  headers: { contentType?: string | undefined; signature?: string | undefined },
  timeoutMs = FORWARD_TIMEOUT_MS,
): Promise<ForwardAnswer> {
  const started = performance.now();
  const sent: Record<string, string> = { "user-agent": "optare-webhooks-inspect" };
  if (headers.contentType !== undefined) sent["content-type"] = headers.contentType;
  if (headers.signature !== undefined) sent[SIGNATURE_HEADER] = headers.signature;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: sent,
      body: new Uint8Array(body),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    return {
      status: response.status,
      contentType: response.headers.get("content-type"),
      body: await response.text(),
      durationMs: performance.now() - started,
    };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : `${cause?.code ?? ""} ${cause?.message ?? (error as Error).message}`.trim();
    throw new InspectorError(
      "forward_unreachable",
      `Forwarding to ${url} failed: ${why}. Is your app running?`,
    );
  }
}

/** Whether something accepts TCP connections at `url`'s host and port (within 2 s). */
export function isListening(url: string): Promise<boolean> {
  const { hostname, port, protocol } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({
      host: hostname.replace(/^\[|\]$/g, ""),
      port: Number(port) || (protocol === "https:" ? 443 : 80),
    });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once("connect", () => done(true)).once("error", () => done(false));
  });
}
