// The conformance kit's HTTP: one request, bounded in time, as an `Answer` whatever happens. Requests the
// reference sender would never make (tampered, unsigned, oversize, other methods) go out this way.
import type { DeliveryRecord } from "@optare/webhooks-sender";

/** A receiver's answer to one request, or why there was none. */
export interface Answer {
  /** The HTTP status, or null when no response arrived. */
  status: number | null;
  /** Response headers, lower-case names (empty for deliveries made through the reference sender). */
  headers: Record<string, string>;
  body: string;
  /** When no response arrived: whether the request timed out or failed on the network, and how. */
  failure: { kind: "timeout" | "network"; message: string } | null;
}

export interface Outgoing {
  method: string;
  headers?: Record<string, string>;
  /** Bytes, or chunks streamed without a Content-Length. */
  body?: string | AsyncIterable<Uint8Array>;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message ?? cause?.code ?? (error as Error).message ?? String(error);
}

function streamOf(chunks: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  return new ReadableStream({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: () => void iterator.return?.(),
  });
}

/** Sends one request; resolves with the answer, or with the failure when none came within `timeoutMs`. */
export async function send(
  fetchImpl: typeof globalThis.fetch,
  url: string,
  request: Outgoing,
  timeoutMs: number,
): Promise<Answer> {
  const signal = AbortSignal.timeout(timeoutMs);
  const streamed = request.body !== undefined && typeof request.body !== "string";
  try {
    const init: RequestInit & { duplex?: "half" } = {
      method: request.method,
      headers: request.headers,
      body: streamed
        ? streamOf(request.body as AsyncIterable<Uint8Array>)
        : (request.body as string | undefined),
      redirect: "manual",
      signal,
    };
    if (streamed) init.duplex = "half";
    const response = await fetchImpl(url, init);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name.toLowerCase()] = value;
    });
    return { status: response.status, headers, body: await response.text(), failure: null };
  } catch (error) {
    if (signal.aborted) {
      return {
        status: null,
        headers: {},
        body: "",
        failure: { kind: "timeout", message: `no answer within ${timeoutMs} ms` },
      };
    }
    return { status: null, headers: {}, body: "", failure: { kind: "network", message: causeOf(error) } };
  }
}

/** A delivery made through the reference sender, as an `Answer`. */
export function answerOf(record: DeliveryRecord | undefined): Answer {
  if (record === undefined) {
    return {
      status: null,
      headers: {},
      body: "",
      failure: { kind: "network", message: "the sender made no delivery" },
    };
  }
  const failure =
    record.statusCode !== null
      ? null
      : {
          kind: record.errorCode === "timeout" ? ("timeout" as const) : ("network" as const),
          message: record.error ?? "no response",
        };
  return { status: record.statusCode, headers: {}, body: record.responseBody ?? "", failure };
}

/** The status, or the failure, in a few words. */
export function describeAnswer(answer: Answer): string {
  if (answer.status !== null) return String(answer.status);
  return answer.failure?.kind === "timeout"
    ? `timeout (${answer.failure.message})`
    : (answer.failure?.message ?? "no response");
}

/** The start of a text, on one line. */
export function excerpt(text: string, length = 160): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length)}…` : flat;
}
