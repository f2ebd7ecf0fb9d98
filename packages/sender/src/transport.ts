// How one attempt's POST goes over the wire. Default: node:http(s) on keep-alive Agents, which on
// Node 20 delivers several times the throughput of the global fetch (see bench/sender.bench.mjs).
// A custom `fetch` can be injected instead. Neither follows redirects.
import http from "node:http";
import https from "node:https";

/** A response, with the body cut to the caller's limit. */
export interface HttpAnswer {
  status: number;
  statusText: string;
  location: string | null;
  body: string;
}

/** No complete response within the attempt's timeout. */
export class AttemptTimeout extends Error {}

export interface Transport {
  /** Rejects with `AttemptTimeout` on timeout and with the client's error on a network failure. */
  post(
    url: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
    bodyLimit: number,
  ): Promise<HttpAnswer>;
  /** Frees pooled connections. */
  close(): void;
}

function decode(chunks: Uint8Array[], limit: number): string {
  // One chunk is the common case (a small body): decode it in place, without a copy.
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(limit, bytes.byteLength)).toString("utf8");
}

interface Target {
  secure: boolean;
  hostname: string;
  port: number;
  path: string;
  /** The Host header, as node:http would derive it. */
  host: string;
}

/**
 * The request head as a flat [name, value, …] list, Host and Content-Length included. node:http
 * writes such a list as is (still validating every name and value), skipping the per-header
 * setHeader/getHeader bookkeeping it does for an object: measurably less CPU per request.
 */
function headerList(target: Target, body: string, headers: Record<string, string>): string[] {
  const list: string[] = [];
  for (const name in headers) list.push(name, headers[name]!);
  list.push("Host", target.host, "Content-Length", String(Buffer.byteLength(body))); // As Node names them.
  return list;
}

/** node:http(s) with one keep-alive Agent per scheme, at most `maxSockets` connections per origin. */
export function createNodeTransport(maxSockets: number): Transport {
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets }),
    https: new https.Agent({ keepAlive: true, maxSockets }),
  };
  // Parsed endpoint URLs. Plain, same-shaped request options keep node:http on its fast path.
  const targets = new Map<string, Target>();

  function targetOf(url: string): Target {
    let target = targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      const secure = parsed.protocol === "https:";
      target = {
        secure,
        hostname: parsed.hostname.startsWith("[") ? parsed.hostname.slice(1, -1) : parsed.hostname,
        port: Number(parsed.port) || (secure ? 443 : 80),
        path: `${parsed.pathname}${parsed.search}`,
        host: parsed.host, // Brackets kept for IPv6, port only when not the scheme's default.
      };
      if (targets.size >= 1024) targets.clear();
      targets.set(url, target);
    }
    return target;
  }

  function send(
    target: Target,
    body: string,
    headers: Record<string, string>,
    deadline: number,
    limit: number,
    mayRetryStaleSocket: boolean,
  ): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      // The first of: response end, body limit, error, close mid-response, timeout.
      let settled = false;
      let responded = false;
      const settle =
        <T>(finish: (value: T) => void) =>
        (value: T) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          finish(value);
        };
      const succeed = settle<HttpAnswer | Promise<HttpAnswer>>(resolve);
      const fail = settle<unknown>(reject);
      const request = (target.secure ? https : http).request(
        {
          hostname: target.hostname,
          port: target.port,
          path: target.path,
          method: "POST",
          agent: target.secure ? agents.https : agents.http,
          headers: headerList(target, body, headers),
        },
        (response) => {
          responded = true;
          const chunks: Buffer[] = [];
          let size = 0;
          const answer = (): HttpAnswer => ({
            status: response.statusCode ?? 0,
            statusText: response.statusMessage ?? "",
            location: response.headers.location ?? null,
            body: decode(chunks, limit),
          });
          response.on("data", (chunk: Buffer) => {
            chunks.push(chunk);
            size += chunk.length;
            if (size > limit) {
              // Enough for the record: stop downloading (this connection is not reused).
              if (!settled) succeed(answer());
              response.destroy();
            }
          });
          response.on("end", () => {
            if (!settled) succeed(answer());
          });
          response.on("error", fail);
          response.on("close", () => {
            if (!response.complete) fail(new Error("the connection closed mid-response"));
          });
        },
      );
      // Whole milliseconds: Node keeps one timer list per distinct duration, and a fractional
      // remainder would give every request a list of its own.
      const timer = setTimeout(
        () => {
          fail(new AttemptTimeout());
          request.destroy();
        },
        Math.max(1, Math.ceil(deadline - performance.now())),
      );
      request.on("error", (error: NodeJS.ErrnoException) => {
        // A pooled connection the server closed while idle: Node's documented case for one resend.
        if (mayRetryStaleSocket && !responded && request.reusedSocket && error.code === "ECONNRESET") {
          succeed(send(target, body, headers, deadline, limit, false));
          return;
        }
        fail(error);
      });
      request.end(body);
    });
  }

  return {
    post(url, body, headers, timeoutMs, bodyLimit) {
      return send(targetOf(url), body, headers, performance.now() + timeoutMs, bodyLimit, true);
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

/** Any `fetch` implementation (`redirect: "manual"`, aborted at the timeout). */
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
    async post(url, body, headers, timeoutMs, bodyLimit) {
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
