// Small node:http helpers the inspector's routes share: bounded body reading, JSON answers that are
// never cached, and the headers every answer carries.
import type { IncomingMessage, ServerResponse } from "node:http";
import { InspectorError } from "./errors";

/** Every answer: no sniffing, no framing, no referrer; the page loads only its own files. */
export const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
} as const;

/** The request body's exact bytes; 413 past `limit` (checked on Content-Length and while reading). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new InspectorError("payload_too_large", `The body is over ${limit} bytes.`);
  if (Number(req.headers["content-length"] ?? 0) > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A page API request's JSON object body: 415 unless sent as JSON, 400 unless it parses to an object. */
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) {
    throw new InspectorError("unsupported_media_type", "Send the request body as application/json.");
  }
  const text = (await readBody(req, limit)).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InspectorError("invalid_request", `The request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InspectorError("invalid_request", "The request body must be a JSON object.");
  }
  return value as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: InspectorError): void {
  sendJson(res, error.status, error.toJSON());
}

/** A string field of a page API request, or a 400 naming it. */
export function stringField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== "string" || value.length === 0) {
    throw new InspectorError("invalid_request", `"${name}" must be a non-empty string.`);
  }
  return value;
}
