// Reading a request body under a size limit, from whatever the transport has: bytes, a Web stream or a
// Node stream (any async iterable of chunks). The limit is checked on the declared length first, then
// while reading; a body refused part-way is drained (bounded) rather than cancelled, because Node HTTP
// servers behind Web streams (Next.js, React Router, Remix) destroy the socket on cancel and stall on a
// body left unread, losing the 413.
import { WebhookError } from "./errors";

export type BodySource = Uint8Array | string | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | null;

/** How much of a refused body is still read and discarded so the connection survives. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;
const encoder = new TextEncoder();

function tooLarge(limit: number): WebhookError {
  return new WebhookError("payload_too_large", `The body is larger than the ${limit}-byte limit.`);
}

function chunksOf(source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncIterator<Uint8Array> {
  if (Symbol.asyncIterator in source) return source[Symbol.asyncIterator]();
  const reader = source.getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<Uint8Array>>,
    return: async () => {
      await reader.cancel();
      return { done: true, value: undefined };
    },
  };
}

/** Reads and drops up to DRAIN_LIMIT_BYTES more, then gives up on the body. Never rejects. */
async function drain(chunks: AsyncIterator<Uint8Array>): Promise<void> {
  try {
    for (let read = 0; read < DRAIN_LIMIT_BYTES; ) {
      const { done, value } = await chunks.next();
      if (done) return;
      read += value.byteLength;
    }
    await chunks.return?.();
  } catch {
    // The peer went away: nothing left to keep alive.
  }
}

/** Reads and drops a body the receiver will not use (405), so the connection survives. */
export function discardBody(source: BodySource): void {
  if (source !== null && typeof source === "object" && !(source instanceof Uint8Array))
    void drain(chunksOf(source));
}

/**
 * The whole body as bytes, or `payload_too_large`. A `WebhookError` thrown by the source passes through;
 * any other failure (the peer hung up) is `request_aborted`.
 */
export async function readBody(source: BodySource, declaredLength: string | null | undefined, limit: number) {
  try {
    return await readLimited(source, declaredLength, limit);
  } catch (cause) {
    if (WebhookError.is(cause)) throw cause;
    throw new WebhookError("request_aborted", "The request body could not be read to its end.", { cause });
  }
}

async function readLimited(source: BodySource, declaredLength: string | null | undefined, limit: number) {
  if (source === null) return new Uint8Array(0);
  if (typeof source === "string") source = encoder.encode(source);
  if (source instanceof Uint8Array) {
    if (source.byteLength > limit) throw tooLarge(limit);
    return source;
  }
  const chunks = chunksOf(source);
  if (Number(declaredLength) > limit) {
    void drain(chunks);
    throw tooLarge(limit);
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await chunks.next();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      void drain(chunks);
      throw tooLarge(limit);
    }
    parts.push(value);
  }
  if (parts.length === 1) return parts[0]!;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    body.set(part, offset);
    offset += part.byteLength;
  }
  return body;
}
