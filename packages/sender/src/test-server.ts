// Test support (not exported from the package): a real node:http server on 127.0.0.1 that records
// every request it receives, byte for byte, and answers with whatever the test decides.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface CapturedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
  /** The client's port: equal ports mean one reused (keep-alive) connection. */
  remotePort: number;
}

export type Responder = (request: CapturedRequest, response: ServerResponse, index: number) => void;

export interface TestServer {
  url: string;
  port: number;
  requests: CapturedRequest[];
  /** Requests received whose response has not been sent yet. */
  inFlight: number;
  maxInFlight: number;
  close(): Promise<void>;
}

/** Answers every request with `status` and `body`. */
export function reply(status: number, body = "", headers: Record<string, string> = {}): Responder {
  return (_request, response) => {
    response.writeHead(status, { "content-type": "text/plain", ...headers });
    response.end(body);
  };
}

/** Starts a server on 127.0.0.1 on a free port. */
export async function startServer(respond: Responder = reply(200, '{"received":true}')): Promise<TestServer> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: CapturedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
        remotePort: req.socket.remotePort ?? 0,
      };
      state.requests.push(request);
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      res.on("close", () => state.inFlight--);
      respond(request, res, state.requests.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const state: TestServer = {
    url: `http://127.0.0.1:${port}/webhooks/optare`,
    port,
    requests: [],
    inFlight: 0,
    maxInFlight: 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return state;
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = await startServer();
  await server.close();
  return server.port;
}

/** Polls `condition` every 5 ms until it holds; fails after `ms`. */
export async function waitFor(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("waitFor: condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The organization, user and virtual start time the sender's tests share. */
export const org = { id: "org_abc", name: "Acme Inc" };
export const user = {
  id: "user_123",
  email: "john@example.com",
  name: "John Doe",
  emailVerified: false,
  createdAt: "2025-11-11T10:30:00Z",
};
export const START = Date.parse("2026-03-01T12:00:00.000Z");
export const MINUTE = 60_000;
