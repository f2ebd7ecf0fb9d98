// How one attempt's POST goes over the wire: the seam between the sender and an HTTP client. The
// default is `createUndiciTransport` (undici-transport.ts); `createFetchTransport` adapts any `fetch`.
// Neither follows redirects.

/** One attempt's POST, as the sender hands it to a transport. */
export interface TransportRequest {
  /** The endpoint URL. Its host goes in the Host header and, over TLS, in SNI and the certificate check. */
  url: string;
  /**
   * The IP address the SSRF guard checked for the URL's host, or null when the guard is off
   * (`allowInsecure`). A transport connects to exactly this address and never resolves the host again.
   */
  address: string | null;
  body: string;
  headers: Record<string, string>;
  /** Budget for the whole exchange, response body included. */
  timeoutMs: number;
  /** Bytes of the response body to keep; a transport may stop reading past them. */
  bodyLimit: number;
}

/** A response, with the body cut to the request's `bodyLimit`. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  location: string | null;
  body: string;
}

/** No complete response within the attempt's timeout. A transport rejects with it; the sender records `timeout`. */
export class AttemptTimeout extends Error {}

/**
 * Sends one attempt's POST. Resolves with any HTTP answer (2xx or not, redirects not followed);
 * rejects with `AttemptTimeout` on timeout and with the client's error on a network failure. One HTTP
 * request per call, except the single resend SPEC §9 allows (a reused keep-alive connection closed by
 * the peer before any response byte).
 */
export interface Transport {
  post(request: TransportRequest): Promise<HttpAnswer>;
  /** Frees pooled connections. Called by `close()` on transports the sender created itself. */
  close(): void | Promise<void>;
}

/** Decodes the first `limit` bytes of a response body. */
export function decode(chunks: Uint8Array[], limit: number): string {
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}

/**
 * Any `fetch` implementation (`redirect: "manual"`, aborted at the timeout). `fetch` resolves the
 * host itself, so the SSRF guard's check holds but its address is not pinned (see the README).
 */
export function createFetchTransport(fetchImpl: typeof globalThis.fetch): Transport {
  async function readBody(response: Response, limit: number): Promise<string> {
    if (response.body === null) return "";
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        break;
      }
    }
    return decode(chunks, limit);
  }

  return {
    async post({ url, body, headers, timeoutMs, bodyLimit }) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      try {
        const response = await fetchImpl(url, {
          method: "POST",
          headers,
          body,
          redirect: "manual",
          signal: controller.signal,
        });
        return {
          status: response.status,
          statusText: response.statusText,
          location: response.headers.get("location"),
          body: await readBody(response, bodyLimit),
        };
      } catch (error) {
        throw controller.signal.aborted ? new AttemptTimeout() : error;
      } finally {
        clearTimeout(timer);
      }
    },
    close() {},
  };
}
